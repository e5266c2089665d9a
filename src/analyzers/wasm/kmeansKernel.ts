/**
 * The WebAssembly kernel of the 1-D k-means dynamic programme (kmeansKernel.wat): every row of
 * the DP in one call, on prefix sums copied into its memory, the split table read back as a
 * view. The same costs and splits to the bit as the JavaScript reference (kmeansDp.ts), which
 * stays for where WebAssembly SIMD is missing (test/unit/analyzers/kmeansKernel.unit.test.ts).
 */
import kernelBytes from './kmeansKernel.wat';
import { threadKernel } from './kernelPool';

interface KernelExports {
  memory: WebAssembly.Memory;
  dp(n: number, kMax: number, stride: number, simd: number): void;
}

/** The DP's inputs: prefix counts, and double-double prefix sums of values and squares (n + 1 each). */
export interface DpPrefixes {
  readonly pc: Float64Array;
  readonly sHi: Float64Array;
  readonly sLo: Float64Array;
  readonly qHi: Float64Array;
  readonly qLo: Float64Array;
}

const PAGE = 65536;

export class KMeansKernel {
  private readonly exports: KernelExports;

  constructor() {
    this.exports = new WebAssembly.Instance(new WebAssembly.Module(kernelBytes)).exports as unknown as KernelExports;
  }

  /**
   * The split table of rows 1..kMax (row m - 1 at (m - 1)·(n + 1)): the best last split of m
   * clusters of the first j groups. `plan` holds two int32 a row: the row's last cell, and 1 to
   * solve it by Knuth's bounds (else divide and conquer). A view of the kernel's memory, valid
   * until the next call. `simd` false: one candidate at a time (for the benchmark).
   */
  splits(p: DpPrefixes, plan: Int32Array, simd = true): Int32Array {
    const n = p.pc.length - 1;
    const kMax = plan.length / 2;
    const stride = Math.ceil(((n + 1) * 8) / 16) * 16;
    const planAt = 7 * stride;
    const tableAt = planAt + kMax * 8;
    const bytes = tableAt + (kMax + 1) * (n + 1) * 4;
    const memory = this.exports.memory;
    if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
    const buffer = memory.buffer;
    [p.pc, p.sHi, p.sLo, p.qHi, p.qLo].forEach((a, at) => new Float64Array(buffer, at * stride, n + 1).set(a));
    const prev = new Float64Array(buffer, 5 * stride, n + 1).fill(Infinity);
    prev[0] = 0;
    new Int32Array(buffer, planAt, 2 * kMax).set(plan);
    new Int32Array(buffer, tableAt, (kMax + 1) * (n + 1)).fill(0);
    this.exports.dp(n, kMax, stride, simd ? 1 : 0);
    return new Int32Array(buffer, tableAt + (n + 1) * 4, kMax * (n + 1));
  }
}

/**
 * The thread's kernel (the DP runs to its end without awaiting, so one is enough), or null where
 * WebAssembly SIMD is not available or the kernels are switched off (then JavaScript does the work).
 */
export const kmeansKernel = threadKernel(() => new KMeansKernel());
