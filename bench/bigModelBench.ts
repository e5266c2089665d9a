/**
 * GB-scale models end to end through the CLI, each step a whole process: time and peak RSS of
 * ours (the CLI process) and of its onnxruntime child, on generated GPT-style models with
 * external data (bench/gptModel.ts): 24 layers of d_model 1024 (310M parameters, 1.24 GB) and
 * 48 layers (2.45 GB, over protobuf's 2 GiB). Steps: open + summary, analyze (statistics only,
 * and full), apply INT4 (MatMulNBits, DequantizeLinear, GPTQ on 8 calibration windows), save
 * with external data (`--external-data always`, and a > 2 GiB result under the writer's rule),
 * and one 64-token window in onnxruntime (`eval --task lm`). Peers in the same run: a bare
 * onnxruntime-node session running the same window, and Python's `onnx.load` of the model.
 * Then, for the 24-layer model, latency of FP32 against INT4 MatMulNBits (accuracy_level 4 and 0)
 * for a 64-token window and for one token, 1 thread (bench/nbitsLatency.ts; --skip-latency).
 *
 *   node dist/bench/bigModelBench.js [--dir DIR] [--skip-full-analysis] [--skip-gptq] [--skip-latency] [--skip-2gb | --only-2gb]
 *
 * Peak RSS is each process's high-water mark (VmHWM in /proc, polled every 50 ms), so it counts
 * what the process holds, not what the OS caches of the files. Models are generated once into
 * DIR (default .cache/bench/gpt, ~4 GB with outputs) and reused.
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeGptModel, writeTokenWindows } from './gptModel';

interface Measured {
  readonly seconds: number;
  /** Peak RSS of the process itself, MiB. */
  readonly oursMiB: number;
  /** Largest peak RSS among its child processes (onnxruntime), MiB; 0 without one. */
  readonly childMiB: number;
  readonly status: number | null;
  readonly stderr: string;
}

const MiB = 2 ** 20;

function hwmOf(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function childrenOf(pid: number): number[] {
  const out: number[] = [];
  try {
    for (const task of fs.readdirSync(`/proc/${pid}/task`)) {
      const text = fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim();
      if (text) out.push(...text.split(/\s+/).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

/** Runs a command to completion, polling its and its descendants' peak RSS. */
function measure(command: string, args: readonly string[]): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const p = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    let ours = 0;
    const children = new Map<number, number>();
    const poll = (): void => {
      ours = Math.max(ours, hwmOf(p.pid!));
      const pending = childrenOf(p.pid!);
      while (pending.length) {
        const c = pending.pop()!;
        children.set(c, Math.max(children.get(c) ?? 0, hwmOf(c)));
        pending.push(...childrenOf(c));
      }
    };
    const timer = setInterval(poll, 50);
    p.on('error', reject);
    p.on('exit', (status) => {
      clearInterval(timer);
      resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, oursMiB: ours / MiB, childMiB: Math.max(0, ...children.values()) / MiB, status, stderr });
    });
  });
}

const cli = path.resolve(__dirname, '..', 'cli.js');

function sizeOf(file: string): number {
  const side = `${file}.data`;
  return fs.statSync(file).size + (fs.existsSync(side) ? fs.statSync(side).size : 0);
}

function recipe(dir: string, name: string, step: Record<string, unknown>): string {
  const file = path.join(dir, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({ version: 1, steps: [step] }));
  return file;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dirAt = args.indexOf('--dir');
  const root = path.resolve(dirAt >= 0 ? args[dirAt + 1] : '.cache/bench/gpt');
  const only = args.includes('--only-2gb');
  const shapes = [...(only ? [] : [{ name: 'gpt-24', layers: 24 }]), ...(args.includes('--skip-2gb') ? [] : [{ name: 'gpt-48', layers: 48 }])];
  const rows: string[][] = [];
  const row = (model: string, step: string, m: Measured, note = ''): void => {
    if (m.status !== 0) note = `failed (${m.status}): ${m.stderr.trim().split('\n').pop()}`;
    rows.push([model, step, m.seconds.toFixed(1), m.oursMiB.toFixed(0), m.childMiB ? m.childMiB.toFixed(0) : '—', note]);
    console.log(rows[rows.length - 1].join('  |  '));
  };
  for (const shape of shapes) {
    const dir = path.join(root, shape.name);
    const model = path.join(dir, 'model.onnx');
    if (!fs.existsSync(model) || !fs.existsSync(`${model}.data`)) writeGptModel(dir, { layers: shape.layers, dModel: 1024, vocab: 4096, heads: 16, maxSeq: 128 });
    const window = writeTokenWindows(path.join(root, 'window'), 1, 64, 4096, 7);
    const calib = writeTokenWindows(path.join(root, 'calib'), 8, 64, 4096, 11);
    const out = path.join(dir, 'out');
    fs.mkdirSync(out, { recursive: true });
    const gb = (sizeOf(model) / 1e9).toFixed(2);
    const label = `${shape.name} (${gb} GB)`;
    console.log(`${label}: ${model}`);

    const py = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' });
    if (py.status === 0) row(label, 'peer: Python onnx.load (reads all weights)', await measure('/usr/bin/python3', ['-c', `import onnx; onnx.load(${JSON.stringify(model)})`]));
    row(label, 'open + summary, 5 times', await measure(process.execPath, [path.join(__dirname, 'openBench.js'), model]));
    row(label, 'analyze --no-redundancy (statistics)', await measure(process.execPath, [cli, 'analyze', model, '--no-redundancy', '--json']));
    if (!args.includes('--skip-full-analysis')) row(label, 'analyze (full)', await measure(process.execPath, [cli, 'analyze', model, '--json']));
    const apply = async (step: string, name: string, r: Record<string, unknown>, extra: string[] = []): Promise<string> => {
      const file = path.join(out, `${name}.onnx`);
      const m = await measure(process.execPath, [cli, 'apply', model, '--recipe', recipe(out, name, r), '--output', file, ...extra]);
      row(label, step, m, m.status === 0 ? `→ ${(sizeOf(file) / 1e6).toFixed(0)} MB${fs.existsSync(`${file}.data`) ? ' (with .data)' : ''}` : '');
      return file;
    };
    const int4 = { transform: 'quantize', dtype: 'int4', granularity: 'block', symmetric: false };
    const nbits = await apply('apply INT4 MatMulNBits block 32', 'int4-nbits', { ...int4, blockSize: 32, format: 'matmulnbits' });
    await apply('apply INT4 DequantizeLinear block 32', 'int4-qdq', { ...int4, blockSize: 32 });
    if (!args.includes('--skip-gptq')) await apply('apply INT4 GPTQ MatMulNBits block 128 (8 windows)', 'int4-gptq', { ...int4, blockSize: 128, format: 'matmulnbits', method: 'gptq', calibration: { data: calib, samples: 8 } });
    await apply('apply INT4 MatMulNBits, --external-data always', 'int4-nbits-ext', { ...int4, blockSize: 32, format: 'matmulnbits' }, ['--external-data', 'always']);
    // Only the head: a result over 2 GiB, so the writer must move weights to a side file.
    if (shape.layers > 24) await apply('apply INT4 to the head only (result > 2 GiB)', 'head-int4', { ...int4, blockSize: 32, format: 'matmulnbits', layers: ['/head/MatMul'] });
    const bare = `const ort=require(${JSON.stringify(require.resolve('onnxruntime-node'))});(async()=>{const s=await ort.InferenceSession.create(process.argv[1],{intraOpNumThreads:1});` +
      `const ids=new BigInt64Array(64).map((_,i)=>BigInt((i*37)%4096));await s.run({input_ids:new ort.Tensor('int64',ids,[1,64])});})()`;
    for (const [name, file] of [['FP32', model], ['INT4 MatMulNBits', nbits]]) {
      row(label, `peer: bare onnxruntime-node, one window, ${name}`, await measure(process.execPath, ['-e', bare, file]));
      row(label, `eval --task lm, one window, ${name}`, await measure(process.execPath, [cli, 'eval', file, '--data', window, '--task', 'lm', '--json']));
    }
  }
  if (!only && !args.includes('--skip-latency')) {
    const model = path.join(root, 'gpt-24', 'model.onnx');
    for (const seq of ['64', '1']) {
      const r = spawnSync(process.execPath, [path.join(__dirname, 'nbitsLatency.js'), model, '--seq', seq, '--runs', '20', '--out', path.join(root, 'gpt-24', 'out')], { encoding: 'utf8' });
      console.log(r.status === 0 ? r.stdout : `nbitsLatency failed: ${r.stderr}`);
    }
  }
  console.log('\n| model | step | seconds | peak RSS, ours (MiB) | peak RSS, onnxruntime child (MiB) | note |\n| --- | --- | ---: | ---: | ---: | --- |');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
