/**
 * `node dist/bench/nbitsLatency.js MODEL.onnx [--runs 20] [--seq 64] [--out DIR]`: latency of one
 * window (batch 1, `seq` tokens) of a GPT-style model (`input_ids` → `logits`) in onnxruntime with
 * 1 thread, FP32 against INT4 MatMulNBits block 32 with accuracy_level 4 (int8 compute, our
 * default) and 0 (the runtime's choice), and block 128 with accuracy_level 4, made from MODEL by the CLI (`apply`). One child process
 * holds the four sessions and runs them in turn, after 3 warm-up runs each, so the machine's load
 * falls on all of them alike; medians over `runs` rounds, and each model's ratio to FP32.
 *
 *   node dist/bench/gptModel.js /tmp/gpt-24 && node dist/bench/nbitsLatency.js /tmp/gpt-24/model.onnx
 *   node dist/bench/nbitsLatency.js test/fixtures/gpt/tiny-gpt.onnx --runs 200
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ranAlone } from './ranAlone';

/** Runs in the child: per model, the milliseconds of each round. */
async function timeSessions(files: readonly string[], runs: number, seq: number): Promise<number[][]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof import('onnxruntime-node');
  const sessions = [];
  for (const f of files) sessions.push(await ort.InferenceSession.create(f, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' }));
  const ids = new ort.Tensor('int64', BigInt64Array.from({ length: seq }, (_, i) => BigInt((i * 37) % 256)), [1, seq]);
  for (const s of sessions) for (let w = 0; w < 3; w++) await s.run({ input_ids: ids });
  const times: number[][] = files.map(() => []);
  for (let r = 0; r < runs; r++) {
    for (let j = 0; j < sessions.length; j++) {
      const m = (r + j) % sessions.length; // rotate who goes first
      const t0 = process.hrtime.bigint();
      await sessions[m].run({ input_ids: ids });
      times[m].push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
  }
  return times;
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function makeVariant(cli: string, model: string, out: string, name: string, accuracyLevel: number, blockSize = 32): string {
  const file = path.join(out, `${name}.onnx`);
  if (fs.existsSync(file)) return file;
  const recipe = path.join(out, `${name}.json`);
  fs.writeFileSync(recipe, JSON.stringify({ version: 1, steps: [{ transform: 'quantize', dtype: 'int4', blockSize, symmetric: false, format: 'matmulnbits', accuracyLevel }] }));
  const r = spawnSync(process.execPath, [cli, 'apply', model, '--recipe', recipe, '--output', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`apply ${name}: ${r.stderr.trim()}`);
  return file;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const [runs, seq, ...files] = args.slice(1);
    process.stdout.write(JSON.stringify(await timeSessions(files, Number(runs), Number(seq))));
    return;
  }
  const option = (name: string, fallback: string): string => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
  const model = path.resolve(args[0] ?? '');
  if (!args[0] || !fs.existsSync(model)) throw new Error('usage: nbitsLatency.js MODEL.onnx [--runs 20] [--seq 64] [--out DIR]');
  const runs = Number(option('--runs', '20'));
  const seq = Number(option('--seq', '64'));
  const out = path.resolve(option('--out', fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-nbits-'))));
  fs.mkdirSync(out, { recursive: true });
  const cli = path.resolve(__dirname, '..', 'cli.js');
  const models: [string, string][] = [
    ['FP32', model],
    ['INT4 MatMulNBits block 32, accuracy_level 4', makeVariant(cli, model, out, 'int4-nbits-acc4', 4)],
    ['INT4 MatMulNBits block 32, accuracy_level 0', makeVariant(cli, model, out, 'int4-nbits-acc0', 0)],
    ['INT4 MatMulNBits block 128, accuracy_level 4', makeVariant(cli, model, out, 'int4-nbits-b128-acc4', 4, 128)],
  ];
  const load = os.loadavg()[0];
  const child = spawn(process.execPath, [__filename, '--child', String(runs), String(seq), ...models.map((m) => m[1])], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  child.stdout.on('data', (d: Buffer) => (text += d.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (status !== 0) throw new Error(`the timing process exited with ${status}`);
  const times = JSON.parse(text) as number[][];
  const fp32 = median(times[0]);
  console.log(`${model}: one window of ${seq} tokens, batch 1, 1 thread, median of ${runs} rounds (load average ${load.toFixed(1)} → ${os.loadavg()[0].toFixed(1)})`);
  console.log('| model | file MB | ms/window | ratio to FP32 |\n| --- | ---: | ---: | ---: |');
  models.forEach(([name, file], i) => {
    const bytes = fs.statSync(file).size + (fs.existsSync(`${file}.data`) ? fs.statSync(`${file}.data`).size : 0);
    console.log(`| ${name} | ${(bytes / 1e6).toFixed(1)} | ${median(times[i]).toFixed(2)} | ${(median(times[i]) / fp32).toFixed(2)} |`);
  });
}

if (ranAlone('nbitsLatency')) {
  main().catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
