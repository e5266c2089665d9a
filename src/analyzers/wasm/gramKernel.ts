/**
 * The Gram matrix G = W·Wᵀ or Wᵀ·W (the smaller side) of a float32 matrix, and the O(n²) loops
 * of the Householder reduction that follows (gramKernel.wat). The product runs in the float32
 * matrix multiply (gemmKernel), lower triangle only, one block of KBLOCK columns of A at a time
 * (A = W, or Wᵀ when W is tall): each block's products are summed in float32 and the blocks'
 * sums added up in float64, so rounding grows with KBLOCK, not with the full length k, and
 * memory stays n² (float32 and float64) + n·KBLOCK however long the other side is. The
 * JavaScript reference (lowRank.ts) sums exact float64 products, and stays for where
 * WebAssembly SIMD is missing; the ranks agree (test/unit/analyzers/gramKernel.unit.test.ts).
 */
import kernelBytes from './gramKernel.wat';
import { GemmKernel, hasFusedMultiplyAdd } from './gemmKernel';
import { kernelPool } from './kernelPool';

interface KernelExports {
  memory: WebAssembly.Memory;
  symv(a: number, n: number, i: number, l: number, e: number): void;
  rank2(a: number, n: number, i: number, l: number, e: number): void;
}

type Loop = (a: Float64Array, n: number, i: number, l: number, e: Float64Array) => void;

/** Columns of A summed in float32 before a float64 addition: one cache block of the multiply. */
export const KBLOCK = 256;
const PAGE = 65536;

export class GramKernel {
  private readonly exports: KernelExports;
  private readonly gemm: GemmKernel;

  /**
   * `gemm`: by default its own multiply, not the thread's shared one: a Gram awaits between
   * blocks, and another may run meanwhile.
   */
  constructor(gemm?: GemmKernel) {
    this.exports = new WebAssembly.Instance(new WebAssembly.Module(kernelBytes)).exports as unknown as KernelExports;
    this.gemm = gemm ?? new GemmKernel(hasFusedMultiplyAdd());
  }

  /**
   * The Householder loops of lowRank.ts (its HouseholderLoops) on matrices and vectors in this
   * kernel's memory, as gram() returns them.
   */
  readonly loops: { symv: Loop; rank2: Loop } = {
    symv: (a, n, i, l, e) => this.exports.symv(a.byteOffset, n, i, l, e.byteOffset),
    rank2: (a, n, i, l, e) => this.exports.rank2(a.byteOffset, n, i, l, e.byteOffset),
  };

  /**
   * The n × n Gram matrix of the smaller side of the rows × cols matrix `w` (row-major), n =
   * min(rows, cols), as a view of the kernel's memory, with room for n more values (`scratch`)
   * after it. Both stay valid until the next call. `checkpoint` is awaited between blocks.
   */
  async gram(w: Float32Array, rows: number, cols: number, checkpoint: () => Promise<void> = async () => {}): Promise<{ g: Float64Array; scratch: Float64Array }> {
    const n = Math.min(rows, cols);
    const { lower, unscale } = await this.scaledLowerGram(w, rows, cols, checkpoint);
    const memory = this.exports.memory;
    const bytes = n * n * 8 + n * 8;
    if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
    const g = new Float64Array(memory.buffer, 0, n * n);
    g.set(lower);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) g[i * n + j] *= unscale;
      for (let j = 0; j < i; j++) g[j * n + i] = g[i * n + j];
    }
    return { g, scratch: new Float64Array(memory.buffer, n * n * 8, n) };
  }

  /**
   * The Gram matrix's lower triangle (row-major n × n; above the diagonal is not meant to be read)
   * of `w` scaled by a power of two, as a view of the multiply's memory valid until the next call:
   * G = unscale · lower, exactly. For callers that read only the lower triangle and can undo the
   * scale on their result (eigenvalues scale with it): no copy, mirror or rescaling of n² values.
   */
  async scaledLowerGram(w: Float32Array, rows: number, cols: number, checkpoint: () => Promise<void> = async () => {}): Promise<{ lower: Float64Array; unscale: number }> {
    const n = Math.min(rows, cols);
    const k = Math.max(rows, cols);
    const wide = rows <= cols; // A = W; else A = Wᵀ
    const gemm = this.gemm;
    const blockAt = GemmKernel.free(2);
    const sumAt = blockAt + n * KBLOCK * 4;
    const totalAt = Math.ceil((sumAt + n * n * 4) / 16) * 16;
    gemm.reserve(totalAt + n * n * 8);
    // Values scaled by a power of two so the largest is in [0.5, 1): float32 products neither
    // overflow nor fall into denormals where float64's would not; undone (exactly) by the caller.
    const scale = 2 ** -Math.ceil(Math.log2(finiteMaxAbs(w) || 1) + 1e-12);
    new Float64Array(gemm.exports.memory.buffer, totalAt, n * n).fill(0);
    for (let first = 0; first < k; first += KBLOCK) {
      const width = Math.min(KBLOCK, k - first);
      const memory = gemm.exports.memory.buffer;
      const block = new Float32Array(memory, blockAt, n * width);
      // Wide: block [n, width] = W[:, first…]; tall: block [width, n] = W[first…, :] (rows of W).
      if (wide) for (let i = 0; i < n; i++) scaledCopy(block, i * width, w, i * cols + first, width, scale);
      else scaledCopy(block, 0, w, first * cols, width * cols, scale);
      const [ars, acs] = wide ? [width, 1] : [1, n];
      new Float32Array(memory, sumAt, n * n).fill(0);
      gemm.product(2, n, n, width, blockAt, ars, acs, blockAt, acs, ars, sumAt, n, 0);
      gemm.exports.widenAdd(sumAt, totalAt, n * n);
      await checkpoint();
    }
    return { lower: new Float64Array(gemm.exports.memory.buffer, totalAt, n * n), unscale: 1 / (scale * scale) };
  }
}

/** The largest |value| among the finite values of `w` (0 if none). */
function finiteMaxAbs(w: Float32Array): number {
  let max = 0;
  for (let i = 0; i < w.length; i++) {
    const v = Math.abs(w[i]);
    if (v > max && v !== Infinity) max = v;
  }
  return max;
}

function scaledCopy(to: Float32Array, at: number, from: Float32Array, start: number, count: number, scale: number): void {
  for (let t = 0; t < count; t++) to[at + t] = from[start + t] * scale;
}

/**
 * Runs `f` with a kernel of its own for as long as it runs; null where WebAssembly SIMD is not
 * available (then JavaScript does the work).
 */
export const withGramKernel = kernelPool(() => new GramKernel());
