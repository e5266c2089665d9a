/**
 * GPTQ (Frantar et al. 2022, "Accurate Post-Training Quantization for Generative Pre-trained
 * Transformers"): quantizes W [K, N] one input row at a time and spreads each row's error over
 * the rows not yet quantized, weighted by the inverse Hessian of the layer's inputs, so X·Ŵ stays
 * close to X·W. The grid is quantizeValues' own, and the result is laid out as gptqLayout says.
 * Where IST-DASLab/gptq leaves room, scales are fitted after dead inputs are zeroed, and a block's
 * scales from its rows with every earlier row's error applied (the reference fits from W as of
 * its 128-row batch's start, which is the same only when blocks are 128).
 */
import type { QuantDType } from '../shared/stepSpec';
import { fitGroups, rangeOf, scaleLayout, type QuantRange, type WideQuantized, type ScaleLayout } from './quantizeMath';
import { factorCopy, inverseUpperFactor } from './cholesky';
import { activationOrder, dampen, permuteRows, permuteSymmetric, reviveDeadInputs } from './gptqHessian';
import { columnRange, quantizeRow, spreadAfter, spreadWithin, Workspace } from './gptqKernels';
import { kernelsEnabled } from '../analyzers/wasm/kernelSwitch';

export interface GptqOptions {
  readonly dtype: Exclude<QuantDType, 'float16'>;
  readonly symmetric: boolean;
  /** One scale per output (over all of K), or per output and block of `blockSize` rows of K. */
  readonly granularity: 'per-channel' | 'block';
  readonly blockSize?: number;
  /** Fraction of mean(diag H) added to the diagonal (default 0.01). */
  readonly damp?: number;
  /** Quantize inputs by decreasing diag(H) (the order is undone in the result). */
  readonly actOrder?: boolean;
  /** Rounds a scale to the type it is stored in (default float32). */
  readonly storeScale?: (s: number) => number;
  /** Rounds a restored weight to the type DequantizeLinear outputs (default float32). */
  readonly storeValue?: (v: number) => number;
  /**
   * H may be overwritten (it ends as the inverse Hessian's factor): no K × K copy is made
   * (128 MiB at K = 4096). By default H is left as it is.
   */
  readonly overwriteHessian?: boolean;
  /**
   * Awaited between batches of rows (and every 128 rows of the inverse Hessian's factorization),
   * so a caller can yield or cancel (by throwing).
   */
  readonly checkpoint?: () => Promise<void>;
}

/** Rows per lazy batch: the reference's 128. */
const BATCH = 128;

/** The scales' layout over W [K, N]: DequantizeLinear's axis 1 per channel, axis 0 per block. */
export function gptqLayout(k: number, n: number, granularity: GptqOptions['granularity'], blockSize = 32): ScaleLayout {
  return granularity === 'block' ? scaleLayout([k, n], 'block', 0, blockSize) : scaleLayout([k, n], 'per-channel', 1, blockSize);
}

/** What fitting a group's scales needs. */
interface Grid {
  readonly n: number;
  readonly range: QuantRange;
  readonly symmetric: boolean;
  readonly storeScale: (s: number) => number;
  readonly scales: Float32Array;
  readonly zeroPoints: Int32Array;
  readonly lo: Float64Array;
  readonly hi: Float64Array;
}

/** Everything one GPTQ run shares between its batches. */
interface Run extends Grid {
  readonly k: number;
  /** Working weights, rows in processing order; quantized rows keep their last value. */
  readonly w: Float64Array;
  /** Upper Cholesky factor of H⁻¹, in processing order. */
  readonly u: Float64Array;
  readonly perm: Int32Array;
  /** Rows per scale group along K, or 0 per channel. */
  readonly blockSize: number;
  /** Block scales are fitted when their block starts (false: all fitted up front). */
  readonly fitAsWeGo: boolean;
  readonly storeValue: (v: number) => number;
  readonly codes: Int32Array;
  readonly restored: Float32Array;
  /** The scaled errors of the current batch's rows, [batch, N]. */
  readonly err: Float64Array;
  /** Where w and err lie when they are in a kernel's memory. */
  readonly space?: Workspace;
}

/** Fits the scales of group `g` from rows [from, to) of the weights as they are now. */
function fitBlock(grid: Grid, w: Float64Array, g: number, from: number, to: number): void {
  const { n } = grid;
  columnRange(w, n, from, to, grid.lo, grid.hi);
  fitGroups(grid.lo, grid.hi, grid.range, grid.symmetric, grid.storeScale, grid.scales.subarray(g * n, (g + 1) * n), grid.zeroPoints.subarray(g * n, (g + 1) * n));
}

/** Rows per group inside a batch: each row's error reaches its group at once, the rest of the batch per group. */
const GROUP = 32;

/**
 * Quantizes rows [start, end) one by one, each row's error reaching the rest of its group of
 * GROUP rows at once and the rest of the batch when the group is done (a matrix product), so a
 * row is fully updated when it is quantized. Groups end on scale blocks' starts, so a block's
 * rows are fully updated when its scales are fitted.
 */
function quantizeBatch(run: Run, start: number, end: number): void {
  const { k, n, w, u, perm, blockSize } = run;
  for (let from = start; from < end; ) {
    let to = Math.min(from + GROUP, end);
    if (run.fitAsWeGo) to = Math.min(to, (Math.floor(from / blockSize) + 1) * blockSize);
    for (let i = from; i < to; i++) {
      if (run.fitAsWeGo && i % blockSize === 0) fitBlock(run, w, i / blockSize, i, Math.min(i + blockSize, k));
      const row = perm[i];
      const scaleAt = blockSize > 0 ? Math.floor(row / blockSize) * n : 0;
      const errAt = (i - start) * n;
      quantizeRow(w, n, i, { row, scaleAt }, run.scales, run.zeroPoints, run.range.qmin, run.range.qmax, run.storeValue, run.codes, run.restored, run.err, errAt, u[i * k + i]);
      spreadWithin(w, u, n, k, i, to, run.err, errAt);
    }
    if (to < end) spreadAfter(w, u, n, k, from, to, end, run.err, (from - start) * n, run.space);
    from = to;
  }
}

function check(w: Float32Array, k: number, n: number, hessian: Float64Array, options: GptqOptions): void {
  if (!(Number.isInteger(k) && Number.isInteger(n) && k > 0 && n > 0)) throw new Error(`GPTQ needs positive integer sizes, got K=${k}, N=${n}`);
  if (w.length !== k * n) throw new Error(`GPTQ: W has ${w.length} values, [K=${k}, N=${n}] needs ${k * n}`);
  if (hessian.length !== k * k) throw new Error(`GPTQ: H has ${hessian.length} values, [K, K] needs ${k * k}`);
  const damp = options.damp ?? 0.01;
  if (!(damp >= 0 && Number.isFinite(damp))) throw new Error(`GPTQ: damping ${damp} is not a finite number ≥ 0`);
  const b = options.blockSize ?? 32;
  if (options.granularity === 'block' && !(Number.isInteger(b) && b > 0)) throw new Error(`GPTQ: block size ${b} is not a positive integer`);
}

/**
 * The rows to quantize (in activation order if asked) in `work` [K, N], that order, and the
 * inverse factor U of the damped Hessian; block scales that do not follow the updates are fitted
 * here, over the original rows. U is made in the Hessian's place: H itself when it may be
 * overwritten, else its one copy (128 MiB at K = 4096).
 */
async function prepared(
  w: Float32Array, work: Float64Array, k: number, n: number, hessian: Float64Array, grid: Grid, blockSize: number, actOrder: boolean, options: GptqOptions,
): Promise<{ perm: Int32Array; u: Float64Array }> {
  const h = options.overwriteHessian ? hessian : factorCopy(hessian, k);
  work.set(w);
  for (const i of reviveDeadInputs(h, k)) work.fill(0, i * n, i * n + n); // its weights never act
  const perm = actOrder ? activationOrder(h, k) : Int32Array.from({ length: k }, (_, i) => i);
  if (blockSize === 0) fitBlock(grid, work, 0, 0, k);
  else if (actOrder) for (let g = 0; g * blockSize < k; g++) fitBlock(grid, work, g, g * blockSize, Math.min(g * blockSize + blockSize, k));
  if (actOrder) {
    permuteSymmetric(h, k, perm);
    permuteRows(work, n, perm);
  }
  dampen(h, k, options.damp ?? 0.01);
  return { perm, u: await inverseUpperFactor(h, k, options.checkpoint) };
}

/**
 * W and the errors in a kernel's memory of their own when there is more than one batch (the
 * updates between batches then run on W in place); undefined where the kernels are off, SIMD is
 * missing or that memory cannot grow so far (the products then copy W in and out).
 */
function workspace(k: number, n: number, rows: number): Workspace | undefined {
  if (!kernelsEnabled() || k <= rows) return undefined;
  try {
    return new Workspace(k, n, rows);
  } catch {
    return undefined;
  }
}

/**
 * Quantizes W [K, N] (row-major; K input features, N outputs) given the Hessian H = 2·XᵀX [K, K]
 * of the layer's inputs X (any positive multiple of it gives the same result). H is not changed
 * unless `options.overwriteHessian`.
 * With activation order, block scales come from the weights before any update (the reference's
 * "static groups"): the stored layout needs blocks of consecutive inputs, which that order breaks.
 */
export async function gptqQuantize(w: Float32Array, k: number, n: number, hessian: Float64Array, options: GptqOptions): Promise<WideQuantized> {
  check(w, k, n, hessian, options);
  const blockSize = options.granularity === 'block' ? (options.blockSize ?? 32) : 0;
  const layout = gptqLayout(k, n, options.granularity, options.blockSize);
  const actOrder = options.actOrder ?? false;
  const grid: Grid = {
    n, range: rangeOf(options.dtype), symmetric: options.symmetric, storeScale: options.storeScale ?? Math.fround,
    scales: new Float32Array(layout.groups), zeroPoints: new Int32Array(layout.groups), lo: new Float64Array(n), hi: new Float64Array(n),
  };
  const fitAsWeGo = blockSize > 0 && !actOrder;
  // Batches end on block boundaries, so a block's rows are fully updated when its scales are fitted.
  const batch = fitAsWeGo ? blockSize * Math.max(1, Math.floor(BATCH / blockSize)) : BATCH;
  const rows = Math.min(batch, k);
  const space = workspace(k, n, rows);
  const work = space?.w ?? new Float64Array(k * n);
  const { perm, u } = await prepared(w, work, k, n, hessian, grid, blockSize, actOrder, options);
  const run: Run = {
    ...grid, k, w: work, u, perm, blockSize, fitAsWeGo, storeValue: options.storeValue ?? Math.fround, space,
    codes: new Int32Array(k * n), restored: new Float32Array(k * n), err: space?.err ?? new Float64Array(rows * n),
  };
  for (let start = 0; start < k; start += batch) {
    await options.checkpoint?.();
    const end = Math.min(start + batch, k);
    quantizeBatch(run, start, end);
    spreadAfter(run.w, u, n, k, start, end, k, run.err, 0, space);
  }
  return { codes: run.codes, scales: run.scales, zeroPoints: run.zeroPoints, restored: run.restored };
}
