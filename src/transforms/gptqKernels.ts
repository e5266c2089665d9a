/**
 * GPTQ's inner loops over the working weights W [K, N] (float64, rows in processing order): each
 * row holds one input feature's weights for all N outputs, so every loop here runs along a row.
 */
import { GemmKernel, gemmKernel, hasFusedMultiplyAdd } from '../analyzers/wasm/gemmKernel';
import { kernelsEnabled } from '../analyzers/wasm/kernelSwitch';
import { codeOf } from './quantizeMath';

/** Per output column, the range of rows [from, to), widened to hold 0 (as quantizeValues does). */
export function columnRange(w: Float64Array, n: number, from: number, to: number, lo: Float64Array, hi: Float64Array): void {
  lo.fill(0);
  hi.fill(0);
  for (let r = from; r < to; r++) {
    const at = r * n;
    for (let c = 0; c < n; c++) {
      const v = w[at + c];
      if (v < lo[c]) lo[c] = v;
      if (v > hi[c]) hi[c] = v;
    }
  }
}

/** Where row i's results go and which scales quantize it. */
export interface RowTarget {
  /** Row of W [K, N] in the original order (codes and restored are stored there). */
  readonly row: number;
  /** Offset of this row's N scales and zero points. */
  readonly scaleAt: number;
}

/**
 * Quantizes working row i: codes and restored values go to `target.row`, and the scaled error
 * (w − ŵ) / d lands in `err` at `errAt`, ready to be spread over the rows still to come.
 */
export function quantizeRow(
  w: Float64Array, n: number, i: number, target: RowTarget, scales: Float32Array, zeroPoints: Int32Array,
  qmin: number, qmax: number, storeValue: (v: number) => number,
  codes: Int32Array, restored: Float32Array, err: Float64Array, errAt: number, d: number,
): void {
  const at = i * n;
  const out = target.row * n;
  const sAt = target.scaleAt;
  for (let c = 0; c < n; c++) {
    const s = scales[sAt + c];
    const z = zeroPoints[sAt + c];
    const v = w[at + c];
    const q = codeOf(v, s, z, qmin, qmax);
    const r = storeValue(Math.fround((q - z) * s));
    codes[out + c] = q;
    restored[out + c] = r;
    err[errAt + c] = (v - r) / d;
  }
}

/** Rows i+1 … end−1 take row i's error at once: W[j] −= U[i, j] · err_i. */
export function spreadWithin(w: Float64Array, u: Float64Array, n: number, k: number, i: number, end: number, err: Float64Array, errAt: number): void {
  const uRow = i * k;
  for (let j = i + 1; j < end; j++) {
    const c = u[uRow + j];
    if (c === 0) continue;
    const at = j * n;
    for (let m = 0; m < n; m++) w[at + m] -= c * err[errAt + m];
  }
}

/**
 * A GPTQ run's working weights W [K, N] and errors [batch, N] in the memory of a kernel of its
 * own, so the lazy updates work on W where it lies: only the block of U a product reads is
 * copied in (batch × K values, against W's K × N in and out each time otherwise). The memory
 * goes with the workspace.
 */
export class Workspace {
  readonly w: Float64Array;
  readonly err: Float64Array;
  private readonly kernel = new GemmKernel(hasFusedMultiplyAdd());
  private readonly uAt: number;

  /** `rows`: the most rows of U one product reads (a batch). Throws if the memory cannot grow that far. */
  constructor(k: number, readonly n: number, rows: number) {
    const [wAt, errAt, uAt] = this.kernel.place([k * n, rows * n, rows * k]);
    this.uAt = uAt;
    this.w = this.kernel.f64(wAt, k * n);
    this.err = this.kernel.f64(errAt, rows * n);
  }

  /** spreadAfter's update, W[to:until] −= U[from:to, to:until]ᵀ · Err[errAt…], on W in place. */
  spread(u: Float64Array, k: number, from: number, to: number, until: number, errAt: number): void {
    const m = until - to;
    const block = new Float64Array(this.kernel.exports.memory.buffer, this.uAt, (to - from) * m);
    for (let i = from; i < to; i++) block.set(u.subarray(i * k + to, i * k + until), (i - from) * m);
    const { n } = this;
    // op(A)[j][i] = U[from + i][to + j] (element strides 1, m); B = Err's rows; C = W's rows to…
    this.kernel.product(3, m, n, to - from, this.uAt, 1, m, this.err.byteOffset + errAt * 8, n, 1, this.w.byteOffset + to * n * 8, n, -1, -1);
  }
}

/**
 * A lazy update: rows to … until−1 take the errors of rows from … to−1 at once (row i's at
 * err[errAt + (i − from)·N]), W[j] −= Σ_i U[i, j] · err_i, i.e. W[to:until] −= U[from:to,
 * to:until]ᵀ · Err: a matrix product (float64, WebAssembly SIMD), on W in place when W and Err
 * are `space`'s; in JavaScript where SIMD is missing, four error rows per pass over W[j].
 */
export function spreadAfter(
  w: Float64Array, u: Float64Array, n: number, k: number, from: number, to: number, until: number, err: Float64Array, errAt: number, space?: Workspace,
): void {
  if (space) {
    space.spread(u, k, from, to, until, errAt);
    return;
  }
  const kernel = kernelsEnabled() ? gemmKernel() : null;
  if (kernel) {
    kernel.gemm(-1, until - to, n, to - from, { data: u, offset: from * k + to, stride: k, transposed: true }, { data: err, offset: errAt, stride: n }, { data: w, offset: to * n, stride: n });
    return;
  }
  for (let j = to; j < until; j++) {
    const at = j * n;
    let i = from;
    for (; i + 4 <= to; i += 4) {
      const c0 = u[i * k + j], c1 = u[(i + 1) * k + j], c2 = u[(i + 2) * k + j], c3 = u[(i + 3) * k + j];
      const e0 = errAt + (i - from) * n, e1 = e0 + n, e2 = e1 + n, e3 = e2 + n;
      for (let m = 0; m < n; m++) w[at + m] -= c0 * err[e0 + m] + c1 * err[e1 + m] + c2 * err[e2 + m] + c3 * err[e3 + m];
    }
    for (; i < to; i++) {
      const c = u[i * k + j];
      const e = errAt + (i - from) * n;
      for (let m = 0; m < n; m++) w[at + m] -= c * err[e + m];
    }
  }
}
