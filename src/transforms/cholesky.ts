/**
 * Dense Cholesky arithmetic on symmetric positive definite matrices, row-major Float64Array
 * [n, n]. Every inner loop runs along a row, so memory is read contiguously.
 */

/** Row i of the right-looking factorization: scale row i, then subtract its outer product. */
function eliminateRow(a: Float64Array, n: number, i: number): void {
  const pivot = a[i * n + i];
  if (!(pivot > 0)) throw new Error(`the matrix is not positive definite (pivot ${pivot} at ${i})`);
  const d = Math.sqrt(pivot);
  const row = i * n;
  a[row + i] = d;
  for (let j = i + 1; j < n; j++) a[row + j] /= d;
  for (let j = i + 1; j < n; j++) {
    const c = a[row + j];
    if (c === 0) continue;
    const at = j * n;
    for (let m = j; m < n; m++) a[at + m] -= c * a[row + m];
  }
}

/**
 * Upper factor R with RᵀR = A, in place over A's upper triangle (the lower one is zeroed).
 * Only A's upper triangle is read.
 */
export function upperCholesky(a: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) eliminateRow(a, n, i);
  for (let i = 1; i < n; i++) a.fill(0, i * n, i * n + i);
}

/** Row i of V = R⁻¹ (upper) by back substitution, rows below i already solved. */
function solveInverseRow(r: Float64Array, v: Float64Array, n: number, i: number): void {
  const row = i * n;
  v[row + i] = 1;
  for (let k = i + 1; k < n; k++) {
    const c = r[row + k];
    if (c === 0) continue;
    const at = k * n;
    for (let m = k; m < n; m++) v[row + m] -= c * v[at + m];
  }
  const d = r[row + i];
  for (let m = i; m < n; m++) v[row + m] /= d;
}

/** Rows a ≥ b of V·Vᵀ: both rows are zero left of their own index, so the dot starts at a. */
function gramRow(v: Float64Array, out: Float64Array, n: number, a: number): void {
  const ra = a * n;
  for (let b = 0; b <= a; b++) {
    const rb = b * n;
    let s = 0;
    for (let m = a; m < n; m++) s += v[ra + m] * v[rb + m];
    out[ra + b] = s;
    out[rb + a] = s;
  }
}

/** A⁻¹ = R⁻¹R⁻ᵀ from A's upper factor R (what torch.cholesky_inverse forms from a factor). */
export function inverseFromUpper(r: Float64Array, n: number): Float64Array {
  const v = new Float64Array(n * n);
  for (let i = n - 1; i >= 0; i--) solveInverseRow(r, v, n, i);
  const out = new Float64Array(n * n);
  for (let a = 0; a < n; a++) gramRow(v, out, n, a);
  return out;
}

/**
 * The upper Cholesky factor U of A⁻¹ (UᵀU = A⁻¹), formed as the GPTQ reference does: factor A,
 * invert from the factor, factor the inverse. A is overwritten.
 */
export function inverseUpperFactor(a: Float64Array, n: number): Float64Array {
  upperCholesky(a, n);
  const inverse = inverseFromUpper(a, n);
  upperCholesky(inverse, n);
  return inverse;
}
