/**
 * Dense Cholesky arithmetic on symmetric positive definite matrices, row-major Float64Array
 * [n, n]. Every inner loop runs along rows, so memory is read contiguously.
 */

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

/** Row i of L from rows 0 … i−1: L[i, j] = (A[i, j] − L[i, :j]·L[j, :j]) / L[j, j]. */
function choleskyRow(a: Float64Array, n: number, i: number): void {
  const row = i * n;
  for (let j = 0; j < i; j++) a[row + j] = (a[row + j] - dot(a, row, j * n, j)) / a[j * n + j];
  const pivot = a[row + i] - dot(a, row, row, i);
  if (!(pivot > 0)) throw new Error(`the matrix is not positive definite (pivot ${pivot} at ${i})`);
  a[row + i] = Math.sqrt(pivot);
  a.fill(0, row + i + 1, row + n);
}

/** Lower factor L with LLᵀ = A, in place (only A's lower triangle is read; the upper is zeroed). */
export function lowerCholesky(a: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) choleskyRow(a, n, i);
}

/** Row i of Y = L⁻¹ by forward substitution: Y[i] = (eᵢ − Σₖ L[i, k]·Y[k]) / L[i, i]. */
function inverseRow(l: Float64Array, y: Float64Array, n: number, i: number): void {
  const row = i * n;
  y[row + i] = 1;
  for (let k = 0; k < i; k++) {
    const c = l[row + k];
    if (c === 0) continue;
    const at = k * n;
    for (let m = 0; m <= k; m++) y[row + m] -= c * y[at + m]; // row k of Y is zero past k
  }
  const d = l[row + i];
  for (let m = 0; m <= i; m++) y[row + m] /= d;
}

/** out[a, b] = m[n−1−a, n−1−b]: J·M·J with J the reversal. */
function reversed(m: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) out[i] = m[n * n - 1 - i];
  return out;
}

/** Rows between two calls of a checkpoint. */
const ROWS_PER_CHECKPOINT = 128;

/**
 * The upper Cholesky factor U of A⁻¹ (UᵀU = A⁻¹); A is not changed. The GPTQ reference factors
 * A, forms A⁻¹ from the factor and factors that again; the factor is unique, and this reaches it
 * with half the work: with J·A·J = LLᵀ, A⁻¹ = (J·L⁻¹·J)ᵀ(J·L⁻¹·J), J·L⁻¹·J upper triangular.
 * `checkpoint` is awaited every 128 rows of each step (the work grows as n³).
 */
export async function inverseUpperFactor(a: Float64Array, n: number, checkpoint?: () => Promise<void>): Promise<Float64Array> {
  const y = await inverseOfReversedFactor(a, n, checkpoint);
  // J·Y·J in place: at K = 4096 each n×n copy is 128 MiB.
  for (let i = 0, j = n * n - 1; i < j; i++, j--) {
    const t = y[i];
    y[i] = y[j];
    y[j] = t;
  }
  return y;
}

/** L⁻¹ where J·A·J = LLᵀ; the factor L is dropped on return (one n×n array less held). */
async function inverseOfReversedFactor(a: Float64Array, n: number, checkpoint?: () => Promise<void>): Promise<Float64Array> {
  const m = reversed(a, n);
  for (let i = 0; i < n; i++) {
    choleskyRow(m, n, i);
    if (checkpoint && i % ROWS_PER_CHECKPOINT === ROWS_PER_CHECKPOINT - 1) await checkpoint();
  }
  const y = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    inverseRow(m, y, n, i);
    if (checkpoint && i % ROWS_PER_CHECKPOINT === ROWS_PER_CHECKPOINT - 1) await checkpoint();
  }
  return y;
}
