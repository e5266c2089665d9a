/**
 * Dense Cholesky arithmetic on symmetric positive definite matrices, row-major Float64Array
 * [n, n]. Every inner loop runs along rows, so memory is read contiguously. Where WebAssembly
 * SIMD is available the work is blocked: blocks of BLOCK columns are factored (and inverted) in
 * JavaScript, and everything between blocks — O(n³) of the O(n³) — is matrix products in the
 * float64 kernel (analyzers/wasm/gemmKernel).
 */
import { GemmKernel, gemmKernel, hasFusedMultiplyAdd } from '../analyzers/wasm/gemmKernel';
import { kernelsEnabled } from '../analyzers/wasm/kernelSwitch';

/** Σ a[p + m] · a[q + m] for m < len, four running sums so the additions overlap. */
function dot(a: Float64Array, p: number, q: number, len: number): number {
  let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  let m = 0;
  for (; m + 4 <= len; m += 4) {
    s0 += a[p + m] * a[q + m];
    s1 += a[p + m + 1] * a[q + m + 1];
    s2 += a[p + m + 2] * a[q + m + 2];
    s3 += a[p + m + 3] * a[q + m + 3];
  }
  for (; m < len; m++) s0 += a[p + m] * a[q + m];
  return s0 + s1 + s2 + s3;
}

/**
 * Row i of L in columns from … min(i, to)−1, from rows from … i−1, columns before `from` already
 * subtracted: L[i, j] = (A[i, j] − L[i, from:j]·L[j, from:j]) / L[j, j]; with i < to also the
 * pivot, and the row's upper part zeroed.
 */
function choleskyRow(a: Float64Array, n: number, i: number, from = 0, to = n): void {
  const row = i * n;
  for (let j = from; j < Math.min(i, to); j++) a[row + j] = (a[row + j] - dot(a, row + from, j * n + from, j - from)) / a[j * n + j];
  if (i >= to) return;
  const pivot = a[row + i] - dot(a, row + from, row + from, i - from);
  if (!(pivot > 0)) throw new Error(`the matrix is not positive definite (pivot ${pivot} at ${i})`);
  a[row + i] = Math.sqrt(pivot);
  a.fill(0, row + i + 1, row + n);
}

/** Lower factor L with LLᵀ = A, in place (only A's lower triangle is read; the upper is zeroed). */
export function lowerCholesky(a: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) choleskyRow(a, n, i);
}

/**
 * Row i of Y = L⁻¹ by forward substitution, Y[i] = (eᵢ − Σₖ L[i, k]·Y[k]) / L[i, i], over
 * columns and rows from … i (all of it with from = 0; the diagonal block's part, the inverse of
 * L's diagonal block, otherwise), into `out` at `at` (columns from … i). Rows from … i−1 of `y`
 * are Y's already; with y = l (in place) row i is still L's, and `out` is a scratch row.
 */
function inverseRow(l: Float64Array, y: Float64Array, n: number, i: number, from: number, out: Float64Array, at: number): void {
  const row = i * n;
  out.fill(0, at + from, at + i);
  out[at + i] = 1;
  for (let k = from; k < i; k++) {
    const c = l[row + k];
    if (c === 0) continue;
    const yk = k * n;
    for (let m = from; m <= k; m++) out[at + m] -= c * y[yk + m]; // row k of Y is zero past k
  }
  const d = l[row + i];
  for (let m = from; m <= i; m++) out[at + m] /= d;
}

/** Reverses the n² values in place: M becomes J·M·J, J the reversal (at K = 4096 a copy is 128 MiB). */
function reverse(m: Float64Array): void {
  for (let i = 0, j = m.length - 1; i < j; i++, j--) {
    const t = m[i];
    m[i] = m[j];
    m[j] = t;
  }
}

/** Rows between two calls of a checkpoint. */
const ROWS_PER_CHECKPOINT = 128;

/** Columns per block of the blocked factorization and inverse (also the checkpoint's period). */
const BLOCK = ROWS_PER_CHECKPOINT;

/**
 * Overwrites A with the upper Cholesky factor U of A⁻¹ (UᵀU = A⁻¹) and returns it: no n × n
 * array besides A (and no copies in and out of the kernel when A is from factorArray). The GPTQ reference factors A, forms A⁻¹ from the factor and factors that
 * again; the factor is unique, and this reaches it with half the work: with J·A·J = LLᵀ,
 * A⁻¹ = (J·L⁻¹·J)ᵀ(J·L⁻¹·J), J·L⁻¹·J upper triangular. `checkpoint` is awaited every 128 rows
 * of each step (the work grows as n³).
 */
export async function inverseUpperFactor(a: Float64Array, n: number, checkpoint?: () => Promise<void>): Promise<Float64Array> {
  reverse(a);
  const own = residents.get(a.buffer);
  const kernel = kernelsEnabled() ? gemmKernel() : null;
  if (own && own.arrays.m === a && kernel) await blockedInverseFactor(own.kernel, own.arrays, n, checkpoint);
  else if (kernel) await blockedInverseFactor(kernel, { m: a, panel: new Float64Array(BLOCK * n), inverse: new Float64Array(BLOCK * BLOCK) }, n, checkpoint);
  else {
    for (let i = 0; i < n; i++) {
      choleskyRow(a, n, i);
      if (checkpoint && i % ROWS_PER_CHECKPOINT === ROWS_PER_CHECKPOINT - 1) await checkpoint();
    }
    const row = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      inverseRow(a, a, n, i, 0, row, 0);
      a.set(row.subarray(0, i + 1), i * n);
      if (checkpoint && i % ROWS_PER_CHECKPOINT === ROWS_PER_CHECKPOINT - 1) await checkpoint();
    }
  }
  reverse(a);
  return a;
}

/** The arrays factorArray placed in kernels' memories, by that memory. */
const residents = new WeakMap<ArrayBufferLike, { kernel: GemmKernel; arrays: Arrays }>();

/**
 * An n × n array (zeros) that inverseUpperFactor works on where it lies: in the memory of a
 * kernel of its own, with the blocked steps' scratch beside it, so no product copies its operands
 * in or C back out (with the shared kernel, a quarter of the time at n = 4096). A plain array
 * where the kernels are off, n is one block or less, or that memory cannot grow so far.
 */
export function factorArray(n: number): Float64Array {
  const own = kernelsEnabled() && n > BLOCK ? residentArrays(n) : undefined;
  if (!own) return new Float64Array(n * n);
  residents.set(own.arrays.m.buffer, own);
  return own.arrays.m;
}

/** What the blocked steps work in: the matrix [n, n], a BLOCK × n panel, a BLOCK × BLOCK block's inverse. */
interface Arrays {
  readonly m: Float64Array;
  readonly panel: Float64Array;
  readonly inverse: Float64Array;
}

/** factorArray(n) holding a copy of A's values. */
export function factorCopy(a: Float64Array, n: number): Float64Array {
  const out = factorArray(n);
  out.set(a);
  return out;
}

/** The arrays in the memory of a kernel of their own; undefined where that memory cannot grow so far. */
function residentArrays(n: number): { kernel: GemmKernel; arrays: Arrays } | undefined {
  try {
    const kernel = new GemmKernel(hasFusedMultiplyAdd());
    const [m, panel, inverse] = kernel.place([n * n, BLOCK * n, BLOCK * BLOCK]);
    return { kernel, arrays: { m: kernel.f64(m, n * n), panel: kernel.f64(panel, BLOCK * n), inverse: kernel.f64(inverse, BLOCK * BLOCK) } };
  } catch {
    return undefined;
  }
}

/** The inverse of L's diagonal block at (from, from), size × size, into `out` (row-major, stride size). */
function lowerBlockInverse(l: Float64Array, n: number, from: number, size: number, out: Float64Array): Float64Array {
  const block = new Float64Array(size * size);
  for (let r = 0; r < size; r++) block.set(l.subarray((from + r) * n + from, (from + r) * n + from + r + 1), r * size);
  out.fill(0, 0, size * size);
  for (let i = 0; i < size; i++) inverseRow(block, out, size, i, 0, out, i * size);
  return out;
}

/**
 * L⁻¹ in place of A, where J·A·J = LLᵀ (A given reversed), blocked: per block of columns, its
 * diagonal block in JavaScript, the panel below it as a product with the block's inverse, then
 * the trailing matrix A₂₂ −= L₂₁·L₂₁ᵀ (lower half) as one product; then per block of rows I,
 * top down, Y[I, :I] = −Y[I, I]·(L[I, :I]·Y[:I, :I]) over L's rows I (rows above are Y's by
 * then), the inner product a block column of Y at a time so Y's zero upper half costs nothing.
 */
async function blockedInverseFactor(kernel: GemmKernel, arrays: Arrays, n: number, checkpoint?: () => Promise<void>): Promise<void> {
  const { m, panel: solved } = arrays;
  for (let j0 = 0; j0 < n; j0 += BLOCK) {
    const j1 = Math.min(j0 + BLOCK, n);
    const width = j1 - j0;
    for (let i = j0; i < j1; i++) choleskyRow(m, n, i, j0, j1);
    if (j1 < n) {
      // The panel below: L₂₁ = A₂₁·L₁₁⁻ᵀ, through the diagonal block's inverse.
      const inverse = lowerBlockInverse(m, n, j0, width, arrays.inverse);
      solved.fill(0, 0, (n - j1) * width);
      kernel.gemm(1, n - j1, width, width, { data: m, offset: j1 * n + j0, stride: n }, { data: inverse, stride: width, transposed: true }, { data: solved, stride: width });
      for (let r = 0; r < n - j1; r++) m.set(solved.subarray(r * width, r * width + width), (j1 + r) * n + j0);
      const panel = { data: m, offset: j1 * n + j0, stride: n };
      kernel.gemm(-1, n - j1, n - j1, j1 - j0, panel, { ...panel, transposed: true }, { data: m, offset: j1 * n + j1, stride: n }, { lower: true });
    }
    if (checkpoint && j1 % ROWS_PER_CHECKPOINT === 0) await checkpoint();
  }
  const t = solved; // BLOCK · n values: T of one block of rows
  for (let i0 = 0; i0 < n; i0 += BLOCK) {
    const i1 = Math.min(i0 + BLOCK, n);
    const rows = i1 - i0;
    const diagonal = lowerBlockInverse(m, n, i0, rows, arrays.inverse); // Y[I, I]
    if (i0 > 0) {
      // T = L[I, j0:i0]·Y[j0:i0, J] for each block column J = [j0, j1) left of I
      t.fill(0, 0, rows * i0);
      for (let j0 = 0; j0 < i0; j0 += BLOCK) {
        const j1 = Math.min(j0 + BLOCK, i0);
        kernel.gemm(1, rows, j1 - j0, i0 - j0, { data: m, offset: i0 * n + j0, stride: n }, { data: m, offset: j0 * n + j0, stride: n }, { data: t, offset: j0, stride: i0 });
      }
      for (let r = i0; r < i1; r++) m.fill(0, r * n, r * n + i0);
      kernel.gemm(-1, rows, i0, rows, { data: diagonal, stride: rows }, { data: t, stride: i0 }, { data: m, offset: i0 * n, stride: n });
    }
    for (let r = 0; r < rows; r++) m.set(diagonal.subarray(r * rows, r * rows + r + 1), (i0 + r) * n + i0);
    if (checkpoint && i1 % ROWS_PER_CHECKPOINT === 0) await checkpoint();
  }
}
