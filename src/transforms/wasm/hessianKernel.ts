/**
 * The Hessian H = 2·XᵀX / n of hessian.ts, summed by the float64 matrix multiply
 * (analyzers/wasm/gemmKernel.wat) in the kernel's own memory: rows are widened to float64 into
 * a buffer there, and every ROWS of them add Xᵀ·X to H's lower triangle in one product. The
 * float32 inputs' products are exact in float64 (fused multiply-add or not), so the result
 * differs from the JavaScript reference (HessianAccumulator) only in the order of the float64
 * sums. H never leaves the kernel's memory: finish() hands over a view of it.
 */
import { GemmKernel, hasFusedMultiplyAdd } from '../../analyzers/wasm/gemmKernel';

/** Rows buffered per product: one cache block (kc) of the float64 multiply. */
const ROWS = 256;

export class KernelHessian {
  private readonly kernel: GemmKernel;
  /** Byte addresses of H [K, K] and of the row buffer [ROWS, K] in the kernel's memory. */
  private readonly hAt: number;
  private readonly rowsAt: number;
  private pending = 0;
  private count = 0;
  private done = false;

  /** `kernel`: by default one of its own (H lives in its memory until the result is dropped). */
  constructor(readonly k: number, kernel?: GemmKernel) {
    if (!(Number.isInteger(k) && k > 0)) throw new Error(`a Hessian needs a positive integer size, got ${k}`);
    this.kernel = kernel ?? new GemmKernel(hasFusedMultiplyAdd());
    [this.hAt, this.rowsAt] = this.kernel.place([k * k, ROWS * k]);
    if (kernel) this.h().fill(0); // one passed in may have been used before (a fresh memory is zeros, untouched)
  }

  private h(): Float64Array {
    return this.kernel.f64(this.hAt, this.k * this.k);
  }

  /** Rows gathered so far. */
  get rows(): number {
    return this.count;
  }

  /** Adds `count` rows of X (K values each, row-major) from the start of `rows`. */
  add(rows: Float32Array, count: number): void {
    if (this.done) throw new Error('the Hessian is already finished');
    const { k } = this;
    if (!(Number.isInteger(count) && count >= 0) || rows.length < count * k) throw new Error(`${count} rows of ${k} need ${count * k} values, got ${rows.length}`);
    for (let r = 0; r < count; ) {
      const c = Math.min(ROWS - this.pending, count - r);
      new Float64Array(this.kernel.exports.memory.buffer, this.rowsAt + this.pending * k * 8, c * k).set(rows.subarray(r * k, (r + c) * k));
      this.pending += c;
      r += c;
      if (this.pending === ROWS) this.flush();
    }
    this.count += count;
  }

  /** H's lower triangle += Xᵀ·X over the buffered rows: A = Xᵀ (element strides 1, K), B = X. */
  private flush(): void {
    const { k, pending } = this;
    if (pending > 0) this.kernel.product(3, k, k, pending, this.rowsAt, 1, k, this.rowsAt, k, 1, this.hAt, k, 0);
    this.pending = 0;
  }

  /**
   * H = 2·XᵀX / n, full and symmetric, as a view of the kernel's memory (valid for as long as
   * it is held; nothing else uses that memory). All zeros when no rows came.
   */
  finish(): Float64Array {
    if (this.done) throw new Error('the Hessian is already finished');
    this.flush();
    this.done = true;
    const h = this.h();
    scaleSymmetric(h, this.k, this.count > 0 ? 2 / this.count : 0, 'lower');
    return h;
  }
}

/** Scales the `filled` triangle of a k × k matrix by `factor` and mirrors it into the other (the Hessians' last step). */
export function scaleSymmetric(h: Float64Array, k: number, factor: number, filled: 'upper' | 'lower'): void {
  const upper = filled === 'upper';
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const at = upper ? i * k + j : j * k + i;
      const mirror = upper ? j * k + i : i * k + j;
      const v = h[at] * factor;
      h[at] = v;
      h[mirror] = v;
    }
  }
}
