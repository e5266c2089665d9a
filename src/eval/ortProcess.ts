/**
 * The parent side of the onnxruntime child process: one job at a time, progress callbacks,
 * cancellation by AbortSignal (the process is killed), and a crash of the process reported as
 * an error of the job.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { FromRunner, HessianReply, ToRunner } from './protocol';
import { humanSeconds } from '../shared/format';

type Request = ToRunner extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;
/** The reply a job of kind K ends with. */
type Reply<K> = K extends 'evaluate' ? Extract<FromRunner, { kind: 'evaluation' }> : K extends 'hessian' ? HessianReply : Extract<FromRunner, { kind: K }>;

/** Where the bundled runner lives: dist/ortRunner.js, found from any bundle under dist/. */
export function defaultRunnerPath(): string {
  for (let dir = __dirname, i = 0; i < 4; i++, dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'ortRunner.js');
    if (fs.existsSync(candidate)) return candidate;
  }
  return path.join(__dirname, 'ortRunner.js');
}

export class OrtProcess {
  private child: ChildProcess | undefined;
  private nextId = 1;
  /** The end of the child's stderr, for the message when it dies. */
  private stderr = '';

  constructor(private readonly runnerPath = defaultRunnerPath()) {}

  private start(): ChildProcess {
    if (this.child?.connected) return this.child;
    this.child = fork(this.runnerPath, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      // Telemetry off: otherwise onnxruntime writes /tmp/mat-debug-<pid>.log and files under ~/.cache.
      env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', ORT_DISABLE_TELEMETRY: '1' },
    });
    this.stderr = '';
    this.child.stderr?.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    return this.child;
  }

  /**
   * Runs a job. `timeoutMs` bounds its wall-clock time: past it the process is killed and the
   * job fails; the next job starts a fresh process. A Hessian job's arrays come from `allocate`
   * (by default plain ones), so they can be made where their user will work on them.
   */
  run<R extends Request>(
    request: R,
    onProgress?: (done: number, total: number, samplesPerSecond?: number) => void,
    signal?: AbortSignal,
    timeoutMs?: number,
    allocate: (name: string, length: number) => Float64Array = (_, length) => new Float64Array(length),
  ): Promise<Reply<R['kind']>> {
    signal?.throwIfAborted();
    const child = this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = timeoutMs ? setTimeout(() => {
        cleanup();
        this.discard(child);
        reject(new Error(`the onnxruntime job took longer than ${humanSeconds(timeoutMs)} and was stopped`));
      }, timeoutMs) : undefined;
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        child.off('message', onMessage);
        child.off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
      };
      const parts: Record<string, Float64Array> = {};
      const onMessage = (m: FromRunner): void => {
        if (m.id !== id) return;
        if (m.kind === 'progress') onProgress?.(m.done, m.total, m.samplesPerSecond);
        else if (m.kind === 'hessianPart') (parts[m.name] ??= allocate(m.name, m.length)).set(m.values, m.offset);
        else if (m.kind === 'hessian') {
          cleanup();
          resolve({ ...m, hessians: parts } as Reply<R['kind']>);
        } else {
          cleanup();
          // onnxruntime spreads some messages over lines: a job error is one line.
          if (m.kind === 'error') reject(new Error(`onnxruntime: ${m.message.replace(/\s*\n\s*/g, '; ')}`));
          else resolve(m as Reply<R['kind']>);
        }
      };
      const onExit = (code: number | null, sig: string | null): void => {
        cleanup();
        const last = this.stderr.trim().split('\n').at(-1);
        reject(new Error(`the onnxruntime process ended (${sig ?? `exit ${code}`})${last ? `: ${last}` : ''}`));
      };
      const onAbort = (): void => {
        cleanup();
        this.discard(child);
        reject(signal?.reason ?? new Error('cancelled'));
      };
      child.on('message', onMessage);
      child.on('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      child.send({ ...request, id } as ToRunner, (error) => {
        if (!error) return;
        cleanup();
        this.discard(child);
        reject(new Error(`the onnxruntime process could not take the job (${error.message})`));
      });
    });
  }

  /** The running child's process id (for diagnostics and tests), if one is running. */
  get pid(): number | undefined {
    return this.child?.connected ? this.child.pid : undefined;
  }

  /** Stops a child; the next job starts a fresh one. */
  private discard(child: ChildProcess): void {
    child.kill();
    if (this.child === child) this.child = undefined;
  }

  dispose(): void {
    this.child?.kill();
    this.child = undefined;
  }
}
