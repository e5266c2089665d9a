/**
 * The WebAssembly kernel of the blocked tridiagonal reduction: the operations of tridiagonal.ts's
 * TridiagonalOps on float64 matrices and vectors in the memory of a matrix multiply (gemmKernel),
 * which tridiagKernel.wat imports. The matrix-vector loops are tridiagKernel.wat's; the rank-2·nb
 * update packs the panel's vectors as P = [V | W] and Q = [W | V] (row i holding every vector's
 * element i), so A -= V·Wᵀ + W·Vᵀ is one float64 product, A -= P·Qᵀ, lower triangle only.
 */
import plainBytes from './tridiagKernel.wat';
import fusedBytes from './tridiagKernel.wat?fma';
import { GemmKernel, hasFusedMultiplyAdd } from './gemmKernel';
import { kernelPool } from './kernelPool';
import type { EigenvectorOps, TridiagonalOps, TridiagonalWorkspace } from '../tridiagonalOps';

interface KernelExports {
  symv(a: number, n: number, i: number, l: number, p: number): void;
  dots(v: number, w: number, n: number, count: number, x: number, len: number, alpha: number, beta: number): void;
  subtractPanel(y: number, v: number, w: number, n: number, count: number, len: number, alpha: number, beta: number): void;
  reflectRows(z: number, n: number, rows: number, u: number, len: number, h: number): void;
}

export class TridiagKernel {
  private readonly exports: KernelExports;
  readonly gemm: GemmKernel;
  /** P and Q of the update, set by workspace(). */
  private packedP: Float64Array = new Float64Array(0);
  private packedQ: Float64Array = new Float64Array(0);

  /** `gemm`: by default a multiply (and memory) of its own: a reduction awaits between panels, and another may run meanwhile. */
  constructor(gemm?: GemmKernel) {
    this.gemm = gemm ?? new GemmKernel(hasFusedMultiplyAdd());
    const bytes = this.gemm.fused ? fusedBytes : plainBytes;
    this.exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory: this.gemm.exports.memory } }).exports as unknown as KernelExports;
  }

  /**
   * A copy of the n × n matrix `a` in the multiply's memory (after its packing buffers), and the
   * reduction's vectors beside it; `extra` more float64 values at the end (a caller's own
   * scratch). Valid until the next call.
   */
  workspace(a: Float64Array, n: number, nb: number, extra = 0): TridiagonalWorkspace & { extra: Float64Array } {
    // Each array starts 16-byte aligned (+ 2 values) so the vector loads stay aligned.
    const sizes = { a: n * n + 2, v: nb * n + 2, w: nb * n + 2, p: n + 2, alpha: nb + 2, beta: nb + 2, packed: n * 2 * nb + 2, extra };
    const start = GemmKernel.free(3);
    this.gemm.reserve(start + 8 * (Object.values(sizes).reduce((x, y) => x + y + 2, 0) + sizes.packed + 2));
    const buffer = this.gemm.exports.memory.buffer;
    let at = start;
    const take = (length: number): Float64Array => {
      const view = new Float64Array(buffer, at, length);
      at += Math.ceil(length / 2) * 16;
      return view;
    };
    const ws = { a: take(sizes.a), v: take(sizes.v), w: take(sizes.w), p: take(sizes.p), alpha: take(sizes.alpha), beta: take(sizes.beta) };
    this.packedP = take(sizes.packed);
    this.packedQ = take(sizes.packed);
    ws.a.set(a.subarray(0, n * n));
    return { ...ws, extra: take(extra) };
  }

  readonly ops: TridiagonalOps = {
    symv: (a, n, i, l, p) => this.exports.symv(a.byteOffset, n, i, l, p.byteOffset),
    dots: (v, w, n, count, x, xAt, len, alpha, beta) => this.exports.dots(v.byteOffset, w.byteOffset, n, count, x.byteOffset + xAt * 8, len, alpha.byteOffset, beta.byteOffset),
    subtractPanel: (y, yAt, v, w, n, count, len, alpha, beta) =>
      this.exports.subtractPanel(y.byteOffset + yAt * 8, v.byteOffset, w.byteOffset, n, count, len, alpha.byteOffset, beta.byteOffset),
    update: (a, n, m, v, w, count) => {
      if (m === 0 || count === 0) return;
      const k = 2 * count;
      packPanel(this.packedP, this.packedQ, v, w, n, m, count);
      // A[m×m] += (-1·P)·Qᵀ, P and Q m × k row-major: op(B)[t][j] = Q[j][t].
      this.gemm.product(3, m, m, k, this.packedP.byteOffset, k, 1, this.packedQ.byteOffset, 1, k, a.byteOffset, n, 0, -1, 1);
    },
  };

  /** On views of the multiply's memory (the workspace's `extra` holds the eigenvectors). */
  readonly vectorOps: EigenvectorOps = {
    reflectRows: (z, n, rows, u, uAt, len, h) => this.exports.reflectRows(z.byteOffset, n, rows, u.byteOffset + uAt * 8, len, h),
  };
}

/** P[i] = [V_0[i] … V_{count-1}[i], W_0[i] … W_{count-1}[i]] and Q[i] the same with W first, for i < m. */
function packPanel(p: Float64Array, q: Float64Array, v: Float64Array, w: Float64Array, n: number, m: number, count: number): void {
  const k = 2 * count;
  for (let j = 0; j < count; j++) {
    const from = j * n;
    for (let i = 0; i < m; i++) {
      const vi = v[from + i];
      const wi = w[from + i];
      p[i * k + j] = vi;
      p[i * k + count + j] = wi;
      q[i * k + j] = wi;
      q[i * k + count + j] = vi;
    }
  }
}

/**
 * Runs `f` with a kernel of its own for as long as it runs; null where WebAssembly SIMD is not
 * available or the kernels are switched off (then JavaScript does the work).
 */
export const withTridiagKernel = kernelPool(() => new TridiagKernel());
