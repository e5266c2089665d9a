/**
 * `npm run bench` (transforms): how long quantizing, clustering and factorizing the largest real
 * model takes, in ns per weight changed, beside numpy doing the same per-channel INT8
 * quantization and numpy.linalg.svd on the same matrices, in the same run. The numpy side needs
 * /usr/bin/python3 with numpy (Debian: python3-numpy); without it only our side is measured.
 *
 * INT8 per channel is timed four ways, each best of 10, none reading or writing a file: our whole
 * step (applyStep on an opened model: weights read out of the model's bytes, quantized, new
 * tensors and DequantizeLinear nodes, the opset raise, the edited model re-indexed); our math
 * alone on the same weights already in memory (codes, scales, restored values, signal and noise
 * energies, largest error, range and the two 64-bin histograms the step reports); numpy doing
 * that same math on the same weights in memory; numpy computing only codes and scales. The
 * like-for-like ratio is math against the same math; the other two are stated as unequal.
 * FLOAT16 weights (a FLOAT16 model) are compared the same way: both sides start from the weights
 * widened to float32, scales rounded up to FLOAT16, restored values rounded to FLOAT16.
 *
 * Run alone: node dist/bench/transformBench.js quantize MODEL (the INT8 comparison), or
 * svd MODEL [RUNS] (the SVD one).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openModel } from '../src/core/onnx/model';
import { readDenseFloat32 } from '../src/core/onnx/tensorData';
import { attributeLayers } from '../src/analyzers/layers';
import { applyStep, stateOf } from '../src/transforms/apply';
import { parseStep } from '../src/transforms/recipe';
import { layerWeights } from '../src/transforms/targets';
import { rangeOf, scaleLayout, type ScaleLayout } from '../src/transforms/quantizeMath';
import { quantizeAs } from '../src/transforms/dequantizeOutput';
import { DataType } from '../src/core/onnx/dataTypes';
import { floatName, type FloatSource } from '../src/transforms/floatSource';
import { truncatedSvd } from '../src/transforms/truncatedSvd';
import { saveModel } from '../src/core/onnx/writeModel';
import { OrtProcess } from '../src/eval/ortProcess';
import { ortCalibrator } from '../src/eval/ortCalibrator';
import { loadCalibrationFeeds } from '../src/eval/calibrationData';
import type { TransformServices } from '../src/transforms/transform';
import { ranAlone } from './ranAlone';
import { textImages } from '../test/helpers/textImages';
import { writeNpy } from '../test/helpers/npyWrite';

const PYTHON = '/usr/bin/python3';

function numpy<T = { seconds: number; weights: number; matrices?: number }>(mode: string, manifest: string, ...more: string[]): T | undefined {
  if (!fs.existsSync(PYTHON)) return undefined;
  const r = spawnSync(PYTHON, [path.resolve('bench/transforms_numpy.py'), mode, manifest, ...more], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`  (numpy side skipped: ${r.stderr.trim().split('\n').at(-1)})`);
    return undefined;
  }
  return JSON.parse(r.stdout);
}

async function best<T>(runs: number, f: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  let seconds = Infinity;
  let value: T | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    value = await f();
    seconds = Math.min(seconds, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { seconds, value: value as T };
}

function writeWeights(file: string, arrays: Float32Array[]): void {
  const fd = fs.openSync(file, 'w');
  for (const a of arrays) fs.writeSync(fd, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
  fs.closeSync(fd);
}

const ns = (seconds: number, weights: number): string => `${((seconds * 1e9) / weights).toFixed(1)} ns/weight`;

/** The weights a step changed, counted in the model it started from. */
const changedWeights = (state: ReturnType<typeof stateOf>, e: Awaited<ReturnType<typeof applyStep>>): number =>
  e.result.changed.flatMap((c) => c.tensors).reduce((n, t) => n + (state.index.tensors.find((x) => x.name === t.tensor)?.elements ?? 0), 0);

export async function benchTransforms(file: string): Promise<void> {
  const model = openModel(file);
  const state = stateOf(model.proto, model.dir);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-bench-'));
  console.log(`transforms on ${path.basename(file)} (whole recipe steps: read weights, compute, build the edited model and its index; best of 3)`);

  await benchQuantize(state, tmp);

  const cluster = await best(3, () => applyStep(state, parseStep({ transform: 'cluster', clusters: 16 })));
  const cWeights = changedWeights(state, cluster.value);
  console.log(`  cluster 16 (k-means++)     ${cluster.seconds.toFixed(3)} s  ${ns(cluster.seconds, cWeights)}  (${cWeights.toLocaleString('en-US')} weights)`);

  const factor = await best(3, () => applyStep(state, parseStep({ transform: 'factorize', energy: 0.99 })));
  console.log(`  factorize 99% energy       ${factor.seconds.toFixed(3)} s  (${factor.value.result.changed.length} layers factorized; every MatMul/Gemm/Conv weight decomposed)`);

  await benchSvd(state, tmp);
  fs.rmSync(tmp, { recursive: true, force: true });
}

/** Our INT8 per-channel step beside numpy's per-channel INT8 math on the same tensors and axes. */
async function benchQuantize(state: ReturnType<typeof stateOf>, tmp: string): Promise<void> {
  // Ten runs a side: three leave our JIT and garbage collector short of their steady state.
  const RUNS = 10;
  // Each run on a fresh index of the model (indexed before the clock starts), so that nothing one
  // run works out and keeps with the index (shapes, consumer maps) makes the next one cheaper:
  // the time is that of one apply on a just-opened model (the first run also warms the JIT).
  const fresh = Array.from({ length: RUNS }, () => stateOf(state.proto, state.dir));
  const quant = await best(RUNS, () => applyStep(fresh.pop()!, parseStep({ transform: 'quantize', dtype: 'int8', granularity: 'per-channel' })));
  const qWeights = changedWeights(state, quant.value);

  // The step's tensors and axes, loaded once, for our math alone and for numpy.
  const tensors = quant.value.result.changed.flatMap((c) => c.tensors.map((t) => ({ name: t.tensor, axis: t.detail?.axis as number | null, scaleType: t.detail?.scaleType as string })));
  const loaded: { values: Float32Array; layout: ScaleLayout; source: FloatSource; scaleType: FloatSource }[] = [];
  let offset = 0;
  // FLOAT16 weights go to numpy widened to float32 (exactly), as they are in our memory; `source`
  // and `scale` say what the restored values and the scales are rounded to.
  const manifest = { file: 'weights.f32', tensors: [] as { offset: number; dims: number[]; axis: number | null; source: string; scale: string }[] };
  for (const t of tensors) {
    const stored = state.index.tensors.find((x) => x.name === t.name)!;
    if (stored.dataType !== DataType.Float && stored.dataType !== DataType.Float16) throw new Error(`${t.name}: the comparison takes FLOAT and FLOAT16 weights`);
    const values = await readDenseFloat32(stored);
    const source = stored.dataType as FloatSource;
    const scaleType = t.scaleType === 'float16' ? DataType.Float16 : DataType.Float;
    loaded.push({ values, layout: scaleLayout(stored.dims, t.axis === null ? 'per-tensor' : 'per-channel', t.axis ?? undefined, 0), source, scaleType });
    manifest.tensors.push({ offset, dims: [...stored.dims], axis: t.axis, source: floatName(source), scale: floatName(scaleType) });
    offset += values.length;
  }
  // What toIntegers computes for a weight: codes, scales, restored values (in the weight's type), error figures, histograms.
  const math = await best(RUNS, async () => loaded.map((t) => quantizeAs(t.values, t.layout, rangeOf('int8'), true, t.source, t.scaleType)));
  let checksum = 0;
  for (const q of math.value) for (const c of q.codes) checksum += Math.abs(c);
  writeWeights(path.join(tmp, 'weights.f32'), loaded.map((t) => t.values));
  fs.writeFileSync(path.join(tmp, 'quantize.json'), JSON.stringify(manifest));
  const npq = numpy<{ codes: number; same: number; weights: number; checksum: number }>('quantize', path.join(tmp, 'quantize.json'), String(RUNS));

  const row = (label: string, seconds: number, what: string): void => console.log(`  ${label.padEnd(26)} ${seconds.toFixed(4)} s  ${ns(seconds, qWeights).padStart(15)}  ${what}`);
  const types = [...new Set(loaded.map((t) => floatName(t.source)))].join(' and ');
  console.log(`  INT8 per channel, symmetric: the step's ${tensors.length} tensors (${types}), ${qWeights.toLocaleString('en-US')} weights, best of ${RUNS} on each side, load ${os.loadavg()[0].toFixed(1)}`);
  row('ours, whole step', quant.seconds, 'applyStep: weights read from the opened model, quantized, new tensors and nodes, edited model re-indexed');
  row('ours, math', math.seconds, 'weights in memory: codes, scales, restored values, energies, max error, range, 2 histograms (quantizeValues)');
  if (!npq) return;
  if (npq.weights !== qWeights || npq.checksum !== checksum) throw new Error(`numpy quantized other weights or made other codes (${npq.weights} weights, Σ|code| ${npq.checksum}; ours ${qWeights}, ${checksum})`);
  row('numpy, the same math', npq.same, 'weights in memory: the same outputs (Σ|code| the same)');
  row('numpy, codes only', npq.codes, 'weights in memory: int8 codes and scales, nothing else');
  console.log(`  ratio, math to the same math  ${(npq.same / math.seconds).toFixed(2)}x numpy's speed`);
  console.log(`  ratio, math to codes only     ${(npq.codes / math.seconds).toFixed(2)}x (ours computing more)`);
  console.log(`  ratio, whole step to codes    ${(npq.codes / quant.seconds).toFixed(2)}x (ours doing far more)`);
}

/**
 * The decomposition alone, ours against numpy.linalg.svd, on every float32 matrix the factorizer
 * considers (MatMul/Gemm/Conv weights, min side ≤ 2048), both at full rank; alternating, `runs`
 * rounds, medians. Also our truncated SVD's worst relative error in σ against numpy's.
 */
async function benchSvd(state: ReturnType<typeof stateOf>, tmp: string, runs = 3): Promise<void> {
  const matrices: { values: Float32Array; rows: number; cols: number }[] = [];
  for (const layer of attributeLayers(state.index).layers) {
    const op = layer.node.node.opType;
    const w = layerWeights(layer).find((x) => x.operand === 1);
    if (!w || !(op === 'MatMul' || op === 'Gemm' || op === 'Conv') || w.tensor.dataType !== 1) continue;
    if (op === 'Conv' && layer.node.node.attribute.some((a) => a.name === 'group' && Number(a.i) !== 1)) continue;
    const rows = w.tensor.dims[0];
    const cols = w.tensor.elements / rows;
    if (rows < 2 || cols < 2 || Math.min(rows, cols) > 2048) continue;
    matrices.push({ values: await readDenseFloat32(w.tensor), rows, cols });
  }
  const svdWeights = matrices.reduce((n, m) => n + m.values.length, 0);
  writeWeights(path.join(tmp, 'matrices.f32'), matrices.map((m) => m.values));
  let at = 0;
  const svdManifest = { file: 'matrices.f32', matrices: matrices.map((m) => ({ offset: (at += m.values.length) - m.values.length, rows: m.rows, cols: m.cols })) };
  fs.writeFileSync(path.join(tmp, 'svd.json'), JSON.stringify(svdManifest));
  const largest = [...new Set([...matrices].sort((x, y) => y.values.length - x.values.length).map((m) => `${m.rows}×${m.cols}`))].slice(0, 3);
  console.log(`  SVD of ${matrices.length} matrices (${svdWeights.toLocaleString('en-US')} weights; largest ${largest.join(', ')}), full rank, alternating, median of ${runs} rounds of best-of-3, load ${os.loadavg()[0].toFixed(1)}`);
  const ours: number[] = [];
  const peer: number[] = [];
  let energies: Float64Array[] = [];
  for (let r = 0; r < runs; r++) {
    // Best of 3 in each round, as the numpy script times itself.
    const round = await best(3, async () => {
      const result: Float64Array[] = [];
      for (const m of matrices) result.push((await truncatedSvd(m.values, m.rows, m.cols, () => Math.min(m.rows, m.cols))).energies);
      return result;
    });
    ours.push(round.seconds);
    energies = round.value;
    const nps = numpy('svd', path.join(tmp, 'svd.json'), path.join(tmp, 'sigma.f64'));
    if (nps) peer.push(nps.seconds);
  }
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
  console.log(`  our SVD (Gram + eigen)     ${median(ours).toFixed(3)} s  ${ns(median(ours), svdWeights)}`);
  if (peer.length === 0) return;
  console.log(`  numpy.linalg.svd           ${median(peer).toFixed(3)} s  ${ns(median(peer), svdWeights)}`);
  console.log(`  ratio                      ${(median(peer) / median(ours)).toFixed(2)}x numpy's speed`);
  // numpy's singular values, all matrices one after the other, largest first.
  const sigma = new Float64Array(fs.readFileSync(path.join(tmp, 'sigma.f64')).buffer.slice(0));
  let worst = 0;
  let from = 0;
  for (const e of energies) {
    for (let i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(Math.sqrt(e[i]) - sigma[from + i]) / sigma[from]);
    from += e.length;
  }
  console.log(`  σ ours vs numpy            max |Δσ| / σ₁ = ${worst.toExponential(2)}`);
}

/**
 * Latency of the float model, weight-only INT8 and static INT8 (QDQ, percentile calibration on 8
 * synthetic text images) in onnxruntime with all graph optimizations, one thread, in the child
 * process; medians of 30 runs after 5 warm-up runs, on the same input.
 */
export async function benchLatency(models: { file: string; h: number; w: number }[]): Promise<void> {
  const runner = new OrtProcess();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-bench-'));
  console.log('latency in onnxruntime (all optimizations, 1 thread, median of 30 runs); output SQNR against the float model');
  console.log('model                                  float ms  weight-only INT8 ms  static INT8 ms  static/float  static SQNR');
  try {
    for (const m of models) {
      const model = openModel(m.file);
      const state = stateOf(model.proto, model.dir);
      const data = path.join(tmp, `${path.basename(m.file)}-calibration`);
      fs.mkdirSync(data);
      writeNpy(path.join(data, 'x.npy'), textImages(8, m.h, m.w), [8, 3, m.h, m.w]);
      const services: TransformServices = {
        calibrator: (proto, settings) => {
          const { feeds, description } = loadCalibrationFeeds(proto, settings.data, settings.samples, settings.shapes);
          return ortCalibrator(feeds, description, runner);
        },
      };
      const weightOnly = await applyStep(state, parseStep({ transform: 'quantize' }));
      const full = await applyStep(state, parseStep({ transform: 'quantize', mode: 'static', calibration: { method: 'percentile', data, samples: 8 } }), undefined, services);
      const files = { float: m.file, weights: path.join(tmp, 'w.onnx'), full: path.join(tmp, 'qdq.onnx') };
      await saveModel(weightOnly.after, files.weights);
      await saveModel(full.after, files.full);
      const feed = { x: { type: 'float32' as const, dims: [1, 3, m.h, m.w], data: textImages(1, m.h, m.w, 11) } };
      const time = (file: string) => runner.run({ kind: 'latency', model: file, feed, runs: 30, warmup: 5, threads: 1 });
      const f = await time(files.float);
      const w = await time(files.weights);
      const q = await time(files.full);
      const a = Object.values(f.outputs)[0].data as Float32Array;
      const b = Object.values(q.outputs)[0].data as Float32Array;
      let signal = 0;
      let noise = 0;
      for (let i = 0; i < a.length; i++) {
        signal += a[i] ** 2;
        noise += (a[i] - b[i]) ** 2;
      }
      console.log(
        [
          `${path.basename(m.file)} ${m.h}x${m.w}`.padEnd(38),
          f.medianMs.toFixed(2).padStart(9),
          w.medianMs.toFixed(2).padStart(20),
          q.medianMs.toFixed(2).padStart(15),
          `${(q.medianMs / f.medianMs).toFixed(2)}x`.padStart(13),
          `${(10 * Math.log10(signal / noise)).toFixed(1)} dB`.padStart(12),
        ].join(' '),
      );
    }
  } finally {
    runner.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Run alone (see the header): quantize MODEL, or svd MODEL [RUNS]. */
if (ranAlone('transformBench') && (process.argv[2] === 'svd' || process.argv[2] === 'quantize')) {
  const model = openModel(process.argv[3]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-bench-'));
  const state = stateOf(model.proto, model.dir);
  const run = process.argv[2] === 'svd' ? benchSvd(state, tmp, Number(process.argv[4] ?? 3)) : benchQuantize(state, tmp);
  void run.finally(() => fs.rmSync(tmp, { recursive: true, force: true }));
}
