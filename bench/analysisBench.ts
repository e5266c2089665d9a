/**
 * `npm run bench` (analysis part): our statistics pass against numpy, and our 16-cluster k-means
 * against scikit-learn's KMeans, on the same data in the same run. Needs /usr/bin/python3 with
 * onnx, numpy and scikit-learn (Debian: python3-onnx python3-numpy python3-sklearn); without
 * them only our side is measured.
 * Goals (issue 3): <= 2 ns/weight and >= 5x faster than numpy; k-means >= 20x faster than sklearn.
 * With gcc present, the same pass in C shows what the CPU itself allows.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openModel } from '../src/core/onnx/model';
import { DataType } from '../src/core/onnx/dataTypes';
import type { TensorInfo } from '../src/core/onnx/tensor';
import { readDenseFloat32 } from '../src/core/onnx/tensorData';
import { computeTensorStats } from '../src/analyzers/tensorStats';
import { analyzeModel } from '../src/analyzers/modelAnalysis';
import { AnalysisClient } from '../src/analyzers/worker/analysisClient';
import { MomentHistogram, kmeans1d } from '../src/analyzers/kmeans1d';
import { sqnrDb } from '../src/analyzers/quantize';

const PYTHON = '/usr/bin/python3';

function python(args: string[]): { seconds: number; best?: number; weights: number; sqnrDb?: number } | undefined {
  if (!fs.existsSync(PYTHON)) return undefined;
  const r = spawnSync(PYTHON, [path.resolve('bench/stats_numpy.py'), ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0) {
    console.log(`  (numpy side skipped: ${r.stderr.trim().split('\n').at(-1)})`);
    return undefined;
  }
  return JSON.parse(r.stdout);
}

/** The same pass in C, when gcc is on the machine: what this CPU allows. Median and best seconds of 5. */
async function nativeStats(tensors: readonly TensorInfo[]): Promise<{ median: number; best: number } | undefined> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-native-'));
  try {
    const binary = path.join(dir, 'stats_native');
    const cc = spawnSync('gcc', ['-O3', '-march=native', '-o', binary, path.resolve('bench/stats_native.c'), '-lm'], { encoding: 'utf8' });
    if (cc.error || cc.status !== 0) return undefined;
    const data = path.join(dir, 'values.f32');
    const fd = fs.openSync(data, 'w');
    for (const t of tensors) fs.writeSync(fd, new Uint8Array((await readDenseFloat32(t)).buffer));
    fs.closeSync(fd);
    const run = spawnSync(binary, [data, ...tensors.map((t) => String(t.elements))], { encoding: 'utf8' });
    if (run.status !== 0) return undefined;
    const [median, best] = run.stdout.split(' ').map(Number);
    return { median, best };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchStats(file: string): Promise<void> {
  const model = openModel(file);
  const tensors = model.index.tensors.filter((t) => (t.dataType === DataType.Float || t.dataType === DataType.Float16) && t.elements > 1);
  const weights = tensors.reduce((n, t) => n + t.elements, 0);
  const once = async (): Promise<number> => {
    const t0 = process.hrtime.bigint();
    for (const t of tensors) await computeTensorStats(t, { redundancy: false });
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  // V8 runs the kernel first as baseline code and swaps in optimized code after some calls, in
  // the background: about ten passes over this model. The editor's workers live long enough to
  // be warm; the first, cold run is printed too.
  const cold = await once();
  for (let i = 0; i < 10; i++) await once();
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) runs.push(await once());
  runs.sort((a, b) => a - b);
  const ours = runs[2];
  const oursBest = runs[0];
  const numpy = python(['stats', file]);
  const native = await nativeStats(tensors);
  // Median and best of 5 on each side: this machine shares its cores, and the best run is the
  // one least disturbed by neighbours.
  const ns = (seconds: number, n: number): string => ((seconds * 1e9) / n).toFixed(2);
  console.log(`statistics pass (min/max/mean/std/zeros/near-zeros/256-bin histogram) on ${path.basename(file)}: ${tensors.length} tensors, ${weights.toLocaleString('en-US')} weights`);
  console.log(`  ours   ${ns(ours, weights)} ns/weight median of 5 (best ${ns(oursBest, weights)}; first, cold run ${ns(cold, weights)})`);
  if (numpy) {
    const best = numpy.best ?? numpy.seconds;
    console.log(`  numpy  ${ns(numpy.seconds, numpy.weights)} ns/weight median of 5 (best ${ns(best, numpy.weights)}; ${numpy.weights.toLocaleString('en-US')} weights)`);
    console.log(`  ratio  ${(numpy.seconds / numpy.weights / (ours / weights)).toFixed(2)}x faster than numpy (best against best: ${(best / numpy.weights / (oursBest / weights)).toFixed(2)}x)`);
  }
  if (native !== undefined) {
    console.log(`  C      ${ns(native.median, weights)} ns/weight median (best ${ns(native.best, weights)}; bench/stats_native.c, gcc -O3 -march=native, scalar; ours / C = ${(ours / native.median).toFixed(2)})`);
  }
  // What the editor runs: the whole statistics analysis in its long-lived worker pool (each worker
  // parses the model, attributes layers, infers shapes, analyzes its share of the layers). The
  // copy's modification time moves before each run, so no worker reuses a cached result.
  const copy = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-bench-')), path.basename(file));
  fs.copyFileSync(file, copy);
  const pool = async (workers: number): Promise<number> => {
    const client = new AnalysisClient(path.join(__dirname, '..', 'analysisWorker.js'), workers, 0); // all of them, whatever the size
    const times: number[] = [];
    try {
      for (let i = 0; i < 6; i++) {
        fs.utimesSync(copy, new Date(), new Date(Date.now() + (i + 1) * 1000));
        const t0 = process.hrtime.bigint();
        await client.analyze(copy, { redundancy: false });
        if (i > 0) times.push(Number(process.hrtime.bigint() - t0) / 1e9); // the first run warms the workers up
      }
    } finally {
      await client.dispose();
    }
    return times.sort((a, b) => a - b)[2];
  };
  const layerWeights = (await analyzeModel(openModel(file), { redundancy: false })).layers.reduce((n, l) => n + l.params, 0);
  const one = await pool(1);
  console.log(`  the editor's analysis in its worker pool (parse, layers, shapes, statistics of every layer weight; ${layerWeights.toLocaleString('en-US')} weights, warm workers, median of 5):`);
  console.log(`    1 worker   ${((one * 1e9) / layerWeights).toFixed(2)} ns/weight`);
  for (const workers of [2, 4].filter((w) => w <= Math.max(2, os.availableParallelism()))) {
    const t = await pool(workers);
    console.log(`    ${workers} workers  ${((t * 1e9) / layerWeights).toFixed(2)} ns/weight (${(one / t).toFixed(2)}x one worker${numpy ? `, ${((numpy.seconds / numpy.weights) / (t / layerWeights)).toFixed(2)}x numpy` : ''})`);
  }
  fs.rmSync(path.dirname(copy), { recursive: true, force: true });
}

export async function benchKMeans(count = 10_000_000): Promise<void> {
  // Gaussian weights from a fixed generator, written for the Python side to read.
  const values = new Float32Array(count);
  let s = 12345;
  const uniform = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  for (let i = 0; i < count; i += 2) {
    const r = Math.sqrt(-2 * Math.log(uniform()));
    const a = 2 * Math.PI * uniform();
    values[i] = r * Math.cos(a) * 0.05;
    if (i + 1 < count) values[i + 1] = r * Math.sin(a) * 0.05;
  }
  let min = Infinity;
  let max = -Infinity;
  let energy = 0;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
    energy += v * v;
  }
  const t0 = process.hrtime.bigint();
  const h = new MomentHistogram(min, max);
  h.add(values);
  const result = kmeans1d(h.groups(), 16);
  const ours = Number(process.hrtime.bigint() - t0) / 1e9;
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-bench-')), 'values.f32');
  fs.writeFileSync(file, new Uint8Array(values.buffer));
  console.log(`16-cluster k-means on ${count.toLocaleString('en-US')} weights`);
  console.log(`  ours     ${ours.toFixed(3)} s, SQNR ${sqnrDb(energy, result.sse).toFixed(3)} dB`);
  const sk = python(['kmeans', file]);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
  if (sk) {
    console.log(`  sklearn  ${sk.seconds.toFixed(3)} s, SQNR ${sk.sqnrDb!.toFixed(3)} dB (KMeans, n_init=1)`);
    console.log(`  ratio    ${(sk.seconds / ours).toFixed(1)}x faster than scikit-learn`);
  }
}
