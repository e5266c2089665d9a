/**
 * The WebAssembly kernel of the blocked tridiagonal reduction (tridiagKernel.wat): the
 * operations of tridiagonal.ts's TridiagonalOps on float64 matrices and vectors in the kernel's
 * memory. The rank-2·nb update packs the panel's vectors as P = [V | W] and Q = [W | V] (row i
 * holding every vector's element i), so A -= V·Wᵀ + W·Vᵀ is one product of P and Qᵀ: that product
 * is the call to swap for a shared GEMM kernel.
 */
import kernelBytes from './tridiagKernel.wat';
import { kernelsEnabled } from './kernelSwitch';
import type { TridiagonalOps, TridiagonalWorkspace } from '../tridiagonalOps';

interface KernelExports {
  memory: WebAssembly.Memory;
  symv(a: number, n: number, i: number, l: number, p: number): void;
  dots(v: number, w: number, n: number, count: number, x: number, len: number, alpha: number, beta: number): void;
  subtractPanel(y: number, v: number, w: number, n: number, count: number, len: number, alpha: number, beta: number): void;
  syr2k(c: number, ldc: number, m4: number, p: number, q: number, k: number): void;
}

const PAGE = 65536;

export class TridiagKernel {
  private readonly exports: KernelExports;
  /** P and Q of the update, set by workspace(). */
  private packedP: Float64Array = new Float64Array(0);
  private packedQ: Float64Array = new Float64Array(0);

  constructor() {
    this.exports = new WebAssembly.Instance(new WebAssembly.Module(kernelBytes)).exports as unknown as KernelExports;
  }

  /**
   * A copy of the n × n matrix `a` in the kernel's memory (with 4 rows of slack below it, which
   * the update's padded tiles touch by zero), and the reduction's vectors beside it. Valid until
   * the next call.
   */
  workspace(a: Float64Array, n: number, nb: number): TridiagonalWorkspace {
    const m4 = Math.ceil(n / 4) * 4;
    const sizes = { a: (n + 4) * n + 2, v: nb * n + 2, w: nb * n + 2, p: n + 2, alpha: nb, beta: nb, packed: (m4 + 4) * 2 * nb };
    const total = (sizes.a + sizes.v + sizes.w + sizes.p + sizes.alpha + sizes.beta + 2 * sizes.packed) * 8;
    const memory = this.exports.memory;
    if (total > memory.buffer.byteLength) memory.grow(Math.ceil((total - memory.buffer.byteLength) / PAGE));
    let at = 0;
    const take = (length: number): Float64Array => {
      const view = new Float64Array(memory.buffer, at, length);
      at += length * 8;
      return view;
    };
    const ws = { a: take(sizes.a), v: take(sizes.v), w: take(sizes.w), p: take(sizes.p), alpha: take(sizes.alpha), beta: take(sizes.beta) };
    this.packedP = take(sizes.packed);
    this.packedQ = take(sizes.packed);
    ws.a.set(a.subarray(0, n * n));
    ws.a.fill(0, n * n);
    return ws;
  }

  readonly ops: TridiagonalOps = {
    symv: (a, n, i, l, p) => this.exports.symv(a.byteOffset, n, i, l, p.byteOffset),
    dots: (v, w, n, count, x, xAt, len, alpha, beta) => this.exports.dots(v.byteOffset, w.byteOffset, n, count, x.byteOffset + xAt * 8, len, alpha.byteOffset, beta.byteOffset),
    subtractPanel: (y, yAt, v, w, n, count, len, alpha, beta) =>
      this.exports.subtractPanel(y.byteOffset + yAt * 8, v.byteOffset, w.byteOffset, n, count, len, alpha.byteOffset, beta.byteOffset),
    update: (a, n, m, v, w, count) => {
      if (m === 0 || count === 0) return;
      const k = 2 * count;
      const m4 = Math.ceil(m / 4) * 4;
      const p = this.packedP;
      const q = this.packedQ;
      packPanel(p, q, v, w, n, m, count);
      p.fill(0, m * k, m4 * k);
      q.fill(0, m * k, m4 * k);
      this.exports.syr2k(a.byteOffset, n, m4, p.byteOffset, q.byteOffset, k);
    },
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

const idle: TridiagKernel[] = [];
let available = true;

/**
 * Runs `f` with a kernel of its own for as long as it runs; null where WebAssembly SIMD is not
 * available or the kernels are switched off (then JavaScript does the work).
 */
export async function withTridiagKernel<T>(f: (kernel: TridiagKernel) => Promise<T>): Promise<T | null> {
  if (!available || !kernelsEnabled()) return null;
  let kernel = idle.pop();
  if (!kernel) {
    try {
      kernel = new TridiagKernel();
    } catch {
      available = false;
      return null;
    }
  }
  try {
    return await f(kernel);
  } finally {
    idle.push(kernel);
  }
}
