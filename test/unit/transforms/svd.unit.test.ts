/** The eigen-decomposition behind factorization: A·v = λ·v, orthonormal vectors, on matrices with known structure. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { symmetricEigen, truncatedSvd } from '../../../src/transforms/truncatedSvd';
import { fixedFloats } from '../../helpers/ort';

function randomSymmetric(n: number, seed: number): Float64Array {
  const r = fixedFloats(n * n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = r[i * n + j];
  return a;
}

test('symmetric eigen-decomposition: A·v = λ·v and VᵀV = I, values sorted, for sizes 1 to 60', async () => {
  for (const n of [1, 2, 3, 7, 16, 60]) {
    const a = randomSymmetric(n, n);
    const { values, vectors } = await symmetricEigen(a, n);
    for (let i = 1; i < n; i++) assert.ok(values[i] <= values[i - 1]);
    for (let p = 0; p < n; p++) {
      const v = vectors.subarray(p * n, p * n + n);
      for (let i = 0; i < n; i++) {
        let av = 0;
        for (let k = 0; k < n; k++) av += a[i * n + k] * v[k];
        assert.ok(Math.abs(av - values[p] * v[i]) < 1e-10, `n=${n} pair ${p}`);
      }
      for (let q = 0; q < n; q++) {
        let dot = 0;
        for (let k = 0; k < n; k++) dot += v[k] * vectors[q * n + k];
        assert.ok(Math.abs(dot - (p === q ? 1 : 0)) < 1e-10);
      }
    }
  }
});

test('repeated eigenvalues and a zero matrix still give an orthonormal basis', async () => {
  const n = 5;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = i < 3 ? 2 : 0;
  const { values } = await symmetricEigen(a, n);
  assert.deepEqual(Array.from(values), [2, 2, 2, 0, 0]);
  const zero = await symmetricEigen(new Float64Array(9), 3);
  assert.deepEqual(Array.from(zero.values), [0, 0, 0]);
});

test('truncated SVD of an exact rank-3 matrix: rank 3 reproduces it, energies beyond are zero', async () => {
  for (const [rows, cols] of [[20, 9], [9, 20]]) {
    const u = fixedFloats(rows * 3, 1);
    const v = fixedFloats(3 * cols, 2);
    const w = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) for (let r = 0; r < 3; r++) w[i * cols + j] += u[i * 3 + r] * v[r * cols + j];
    const f = await truncatedSvd(w, rows, cols, () => 3);
    for (let r = 3; r < f.energies.length; r++) assert.ok(f.energies[r] < 1e-9 * f.energies[0]);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        let x = 0;
        for (let r = 0; r < 3; r++) x += f.a[i * 3 + r] * f.b[r * cols + j];
        assert.ok(Math.abs(x - w[i * cols + j]) < 1e-5);
      }
    }
  }
});
