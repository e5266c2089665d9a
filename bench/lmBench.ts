/**
 * `node dist/bench/lmBench.js [--model DIR] [--calib N] [--symmetric] [--only REGEX] [--windows FILE]`: a GPT made by
 * test/fixtures/make_tiny_gpt.py (default: the committed fixture, test/fixtures/gpt) at FP32, INT8
 * per channel and INT4 (round to nearest and GPTQ, per channel and in blocks of 32 and 128;
 * DequantizeLinear and MatMulNBits): file size, perplexity on the held-back windows (DIR/heldout-windows.npz,
 * else DIR/test-windows.npz) with a
 * bootstrap interval of the change, KL to FP32, next-token agreement, and latency per window in
 * onnxruntime (1 thread, batch 1, median over the windows), each evaluated against the FP32
 * model in the same run. Then GPTQ against RTN on the same layers, paired over the same windows:
 * the difference of the perplexity changes and of the KLs with 95% intervals, and issue 16's goal
 * (GPTQ's perplexity increase ≤ half of RTN's) tested as Δ_GPTQ − ½·Δ_RTN ≤ 0.
 * DequantizeLinear rows take the MatMuls only (GPTQ's layers; RTN alone could also take the
 * embeddings); MatMulNBits rows take the MatMuls and, for both methods, the token embedding.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openModel } from '../src/core/onnx/model';
import { saveModel } from '../src/core/onnx/writeModel';
import { seededRandom } from '../src/core/random';
import { applyStep, stateOf } from '../src/transforms/apply';
import { parseStep } from '../src/transforms/recipe';
import { runEval } from '../src/cli/evalCommand';
import type { LmWindow } from '../src/eval/lmMetrics';
import { OrtProcess } from '../src/eval/ortProcess';
import { ortTransformServices } from '../src/eval/transformServices';

type Step = Record<string, unknown>;

/** The rows: name → step (undefined: the FP32 model). GPTQ rows pair with the RTN row of the same name. */
function recipes(calib: string, samples: number, symmetric: boolean): Record<string, Step | undefined> {
  const int4 = { transform: 'quantize', dtype: 'int4', symmetric };
  const qdq = { ...int4, layers: ['*MatMul'] };
  const nbits = { ...int4, format: 'matmulnbits' };
  const gptq = { method: 'gptq', calibration: { data: calib, samples } };
  const rows: Record<string, Step | undefined> = { 'FP32': undefined, 'INT8 per-channel': { transform: 'quantize', dtype: 'int8' } };
  for (const method of ['RTN', 'GPTQ']) {
    const extra = method === 'GPTQ' ? gptq : {};
    rows[`INT4 ${method} per-channel, DequantizeLinear`] = { ...qdq, granularity: 'per-channel', ...extra };
    for (const block of [32, 128]) {
      rows[`INT4 ${method} block ${block}, DequantizeLinear`] = { ...qdq, blockSize: block, ...extra };
      rows[`INT4 ${method} block ${block}, MatMulNBits`] = { ...nbits, blockSize: block, ...extra };
    }
  }
  return rows;
}

interface Row {
  readonly name: string;
  readonly bytes: number;
  readonly perplexity: number;
  readonly delta: { value: number; ci95: [number, number] };
  readonly kl: number;
  readonly agreement: number;
  readonly ms: number;
  readonly fp32Ms: number;
  readonly windows: readonly LmWindow[];
}

const sum = (w: readonly LmWindow[], pick: (x: LmWindow) => number, at: readonly number[]): number => at.reduce((s, i) => s + pick(w[i]), 0);

/** Perplexity change and mean KL of a candidate over the windows `at` (with repeats). */
function changeOver(w: readonly LmWindow[], at: readonly number[]): { delta: number; kl: number } {
  const n = sum(w, (x) => x.tokens, at);
  return { delta: Math.exp(sum(w, (x) => x.candidateNll, at) / n) - Math.exp(sum(w, (x) => x.baselineNll, at) / n), kl: sum(w, (x) => x.kl, at) / n };
}

/** Paired bootstrap over windows (2,000 draws, seeded): 95% intervals of statistics of two candidates' changes. */
export function pairedIntervals(a: readonly LmWindow[], b: readonly LmWindow[], stats: Record<string, (a: { delta: number; kl: number }, b: { delta: number; kl: number }) => number>): Record<string, { value: number; ci95: [number, number] }> {
  const all = a.map((_, i) => i);
  const random = seededRandom(7);
  const draws: Record<string, number[]> = Object.fromEntries(Object.keys(stats).map((k) => [k, []]));
  for (let d = 0; d < 2000; d++) {
    const at = all.map(() => Math.floor(random() * all.length));
    const ca = changeOver(a, at);
    const cb = changeOver(b, at);
    for (const [k, f] of Object.entries(stats)) draws[k].push(f(ca, cb));
  }
  const ca = changeOver(a, all);
  const cb = changeOver(b, all);
  return Object.fromEntries(Object.entries(stats).map(([k, f]) => {
    const sorted = draws[k].sort((x, y) => x - y);
    return [k, { value: f(ca, cb), ci95: [sorted[49], sorted[1949]] as [number, number] }];
  }));
}

const signed = (v: number, digits = 3): string => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
const interval = (x: { value: number; ci95: [number, number] }, digits = 3): string => `${signed(x.value, digits)} [${x.ci95[0].toFixed(digits)}, ${x.ci95[1].toFixed(digits)}]`;

async function measure(name: string, step: Step | undefined, model: string, windows: string, tmp: string, services: ReturnType<typeof ortTransformServices>): Promise<Row> {
  let file = model;
  if (step) {
    const m = openModel(model);
    const edit = await applyStep(stateOf(m.proto, m.dir), parseStep(step), undefined, services);
    file = path.join(tmp, `${name.replace(/\W+/g, '_')}.onnx`);
    await saveModel(edit.after, file);
  }
  const r = await runEval(file, { baseline: model, dataset: { kind: 'numpy', path: windows }, task: 'lm', batchSize: 1, threads: 1, optimization: 'all', timeoutSeconds: 1200, json: true }, () => undefined);
  const lm = r.lm!;
  return {
    name, bytes: fs.statSync(file).size, perplexity: lm.candidate.perplexity, delta: lm.perplexityDelta!, kl: lm.klDivergence!, agreement: lm.agreement!,
    ms: r.candidate.latencyMs.median, fp32Ms: r.baseline!.latencyMs.median, windows: lm.windows!,
  };
}

function printRow(r: Row): void {
  console.log(
    `| ${r.name} | ${(r.bytes / 2 ** 20).toFixed(2)} MiB | ${r.perplexity.toFixed(3)} | ${r.name === 'FP32' ? '—' : interval(r.delta)} | ` +
      `${r.kl.toFixed(4)} | ${(r.agreement * 100).toFixed(1)}% | ${r.ms.toFixed(2)} (${r.fp32Ms.toFixed(2)}) |`,
  );
}

function printPairs(rows: readonly Row[]): void {
  console.log('\n| GPTQ vs RTN, same layers | Δppl RTN | Δppl GPTQ | GPTQ − RTN (95% CI) | KL GPTQ − RTN (95% CI) | Δ_GPTQ − ½Δ_RTN (95% CI) | goal met |');
  console.log('| --- | ---: | ---: | --- | --- | --- | --- |');
  for (const g of rows.filter((r) => r.name.includes('GPTQ'))) {
    const r = rows.find((x) => x.name === g.name.replace('GPTQ', 'RTN'));
    if (!r) continue;
    const p = pairedIntervals(g.windows, r.windows, {
      diff: (a, b) => a.delta - b.delta,
      kl: (a, b) => a.kl - b.kl,
      goal: (a, b) => a.delta - 0.5 * b.delta,
    });
    const met = p.goal.ci95[1] <= 0 ? 'yes' : p.goal.ci95[0] > 0 ? 'no' : 'undecided (interval holds 0)';
    console.log(`| ${g.name.replace('GPTQ ', '')} | ${signed(r.delta.value)} | ${signed(g.delta.value)} | ${interval(p.diff)} | ${interval(p.kl, 4)} | ${interval(p.goal)} | ${met} |`);
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const dir = path.resolve(option('--model') ?? 'test/fixtures/gpt');
  const samples = Number(option('--calib') ?? 128);
  const model = path.join(dir, 'tiny-gpt.onnx');
  if (!fs.existsSync(model)) throw new Error(`${model} is missing: make it with test/fixtures/make_tiny_gpt.py --out ${dir} (see its header)`);
  const reference = JSON.parse(fs.readFileSync(path.join(dir, 'reference.json'), 'utf8')) as { parameters: number; config: Record<string, number> };
  // The 240 held-back windows when made (make_tiny_gpt.py --heldout-only 240), else the 64 of test-windows.npz.
  const windows = option('--windows') ?? ['heldout-windows.npz', 'test-windows.npz'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f))!;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-lm-'));
  const runner = new OrtProcess();
  const services = ortTransformServices(runner, () => ({ relativeTo: dir }));
  console.log(`${model}: ${(reference.parameters / 1e6).toFixed(2)}M parameters, ${JSON.stringify(reference.config)}; GPTQ calibrates on ${samples} windows of calib-windows.npz; evaluated on ${path.basename(windows)}; INT4 ${args.includes('--symmetric') ? 'symmetric' : 'asymmetric'}`);
  console.log('| model | file | perplexity | Δ (95% CI) | KL to FP32 | agreement | ms/window (FP32 same run) |');
  console.log('| --- | ---: | ---: | --- | ---: | ---: | ---: |');
  const rows: Row[] = [];
  try {
    const only = new RegExp(option('--only') ?? '');
    for (const [name, step] of Object.entries(recipes(path.join(dir, 'calib-windows.npz'), samples, args.includes('--symmetric')))) {
      if (name !== 'FP32' && !only.test(name)) continue;
      const row = await measure(name, step, model, windows, tmp, services);
      rows.push(row);
      printRow(row);
    }
    printPairs(rows);
  } finally {
    runner.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
