/**
 * Runs model analysis in a worker thread: progress as it goes, cancel through an AbortSignal,
 * errors as OnnxError. One client owns one worker; dispose() ends it.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { OnnxError, type OnnxErrorCode } from '../../core/errors';
import type { AnalysisProgress, ModelAnalysis } from '../modelAnalysis';
import type { AnalysisOptions, FromAnalysisWorker, ToAnalysisWorker } from './protocol';

export class AnalysisCancelled extends Error {
  constructor() {
    super('analysis cancelled');
    this.name = 'AnalysisCancelled';
  }
}

interface Pending {
  resolve: (a: ModelAnalysis) => void;
  reject: (e: Error) => void;
  onProgress?: (p: AnalysisProgress) => void;
}

export class AnalysisClient {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  /** `workerFile`: the bundled worker entry (dist/analysisWorker.js by default). */
  constructor(workerFile = path.join(__dirname, 'analysisWorker.js')) {
    this.worker = new Worker(workerFile);
    this.worker.on('message', (m: FromAnalysisWorker) => this.receive(m));
    this.worker.on('error', (e) => this.failAll(e));
    this.worker.on('exit', (code) => this.failAll(new Error(`analysis worker exited with code ${code}`)));
  }

  analyze(file: string, options: AnalysisOptions = {}, hooks: { onProgress?: (p: AnalysisProgress) => void; signal?: AbortSignal } = {}): Promise<ModelAnalysis> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (hooks.signal?.aborted) return reject(new AnalysisCancelled());
      this.pending.set(id, { resolve, reject, onProgress: hooks.onProgress });
      hooks.signal?.addEventListener('abort', () => this.post({ type: 'cancel', id }), { once: true });
      this.post({ type: 'analyze', id, file: path.resolve(file), options });
    });
  }

  async dispose(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
    this.failAll(new AnalysisCancelled());
  }

  private post(m: ToAnalysisWorker): void {
    this.worker.postMessage(m);
  }

  private receive(m: FromAnalysisWorker): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    switch (m.type) {
      case 'progress':
        p.onProgress?.(m.progress);
        return;
      case 'result':
        this.pending.delete(m.id);
        p.resolve(m.analysis);
        return;
      case 'cancelled':
        this.pending.delete(m.id);
        p.reject(new AnalysisCancelled());
        return;
      case 'error':
        this.pending.delete(m.id);
        p.reject(m.code === 'internal' ? new Error(m.message) : new OnnxError(m.code as OnnxErrorCode, m.message));
    }
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }
}
