/**
 * The blocked tridiagonal reduction (tridiagonal.ts, its kernel wasm/tridiagKernel) against
 * numpy's float64 eigvalsh stored with the fixtures (make_eigen_fixture.py: 1×1, 2×2, zero,
 * rank-deficient, repeated and clustered eigenvalues, tiny and huge scales, Gram matrices over
 * several panels), against the unblocked reduction (lowRank.ts) on large Gram matrices, and the
 * kernel's operations against the JavaScript ones; the ranks at 90/95/99 % energy must be equal.
 * And the eigenvectors factorization uses (symmetricEigen.ts): residual and orthonormality on the
 * same matrices, all kept or a third.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseNpz } from '../../../src/core/npy';
import { gramOfSmallerSide, rankForEnergy, symmetricEigenvalues } from '../../../src/analyzers/lowRank';
import { blockedEigenvalues, reduceToTridiagonal } from '../../../src/analyzers/tridiagonal';
import { tqlEigenvalues } from '../../../src/analyzers/tridiagonalEigenvalues';
import { javascriptOps, javascriptWorkspace } from '../../../src/analyzers/tridiagonalOps';
import { TridiagKernel } from '../../../src/analyzers/wasm/tridiagKernel';
import { symmetricEigen } from '../../../src/analyzers/symmetricEigen';
import { useKernels } from '../../../src/analyzers/wasm/kernelSwitch';
import { seededRandom } from '../../../src/core/random';
import { repoRoot } from '../../helpers/paths';

function gaussian(n: number, seed: number, scale = 1): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

/** A float64 array's values (copied: the bytes in the archive need not be 8-byte aligned). */
const float64 = (bytes: Uint8Array): Float64Array => new Float64Array(Uint8Array.from(bytes).buffer);

const sorted = (x: ArrayLike<number>): number[] => Array.from(x).sort((a, b) => a - b);

function ranks(values: ArrayLike<number>): (number | null)[] {
  const energies = Float64Array.from(values, (x) => Math.max(0, x)).sort().reverse();
  return [0.9, 0.95, 0.99].map((f) => rankForEnergy({ energies, rows: energies.length, cols: energies.length }, f));
}

/** Each eigenvalue within float64 backward error of the reduction (relative to the largest magnitude). */
function assertClose(actual: ArrayLike<number>, wanted: ArrayLike<number>, what: string): void {
  const a = sorted(actual);
  const b = sorted(wanted);
  assert.equal(a.length, b.length, what);
  const top = Math.max(0, ...b.map(Math.abs));
  const tolerance = 64 * Math.max(1, b.length) * 2 ** -52 * top;
  b.forEach((v, k) => assert.ok(Math.abs(a[k] - v) <= tolerance, `${what} eigenvalue ${k}: ${a[k]} vs ${v} (tolerance ${tolerance})`));
}

async function eigenvaluesBothWays(a: Float64Array, n: number): Promise<{ kernel: Float64Array; javascript: Float64Array }> {
  const kernel = await blockedEigenvalues(a, n);
  useKernels(false);
  try {
    return { kernel, javascript: await blockedEigenvalues(a, n) };
  } finally {
    useKernels(true);
  }
}

const reference = parseNpz(fs.readFileSync(path.join(repoRoot, 'test/fixtures/eigen_reference.npz')));
for (const [name, array] of reference) {
  if (name.endsWith('_eig')) continue;
  test(`blocked reduction = numpy eigvalsh: ${name}`, async () => {
    const n = array.shape[0];
    const a = float64(array.data);
    const before = Float64Array.from(a);
    const want = float64(reference.get(`${name}_eig`)!.data);
    const { kernel, javascript } = await eigenvaluesBothWays(a, n);
    assert.deepEqual(Array.from(a), Array.from(before), 'the input is not modified');
    assertClose(kernel, want, 'kernel');
    assertClose(javascript, want, 'JavaScript');
    assert.deepEqual(ranks(kernel), ranks(want), 'ranks (kernel)');
    assert.deepEqual(ranks(javascript), ranks(want), 'ranks (JavaScript)');
  });
}

test('blocked reduction: empty matrix', async () => {
  assert.deepEqual(Array.from(await blockedEigenvalues(new Float64Array(0), 0)), []);
});

for (const [rows, cols] of [[700, 640], [300, 900], [129, 129]]) {
  test(`blocked reduction = unblocked reduction on the Gram of a ${rows}×${cols} weight`, async () => {
    const w = gaussian(rows * cols, rows + cols, 0.05);
    const n = Math.min(rows, cols);
    const g = await gramOfSmallerSide(w, rows, cols);
    const blocked = await blockedEigenvalues(g, n);
    const unblocked = await symmetricEigenvalues(Float64Array.from(g), n);
    assertClose(blocked, unblocked, 'blocked vs unblocked');
    assert.deepEqual(ranks(blocked), ranks(unblocked));
  });
}

test('kernel operations = JavaScript operations, one panel at a time (odd n, partial last panel)', async () => {
  const n = 77;
  const w = gaussian(n * 90, 5);
  const g = await gramOfSmallerSide(w, n, 90);
  const kernel = new TridiagKernel();
  for (const nb of [1, 3, 8, 32]) {
    const ws = kernel.workspace(g, n, nb);
    const js = javascriptWorkspace(Float64Array.from(g), n, nb);
    const d1 = new Float64Array(n);
    const e1 = new Float64Array(n);
    const d2 = new Float64Array(n);
    const e2 = new Float64Array(n);
    await reduceToTridiagonal(ws, n, nb, d1, e1, kernel.ops);
    await reduceToTridiagonal(js, n, nb, d2, e2, javascriptOps);
    // The tridiagonal forms agree to rounding (only the order of float64 sums differs).
    const top = Math.max(...Array.from(d2, Math.abs));
    for (let i = 0; i < n; i++) {
      assert.ok(Math.abs(d1[i] - d2[i]) <= 1e-11 * top, `nb ${nb} d[${i}]: ${d1[i]} vs ${d2[i]}`);
      assert.ok(Math.abs(Math.abs(e1[i]) - Math.abs(e2[i])) <= 1e-11 * top, `nb ${nb} e[${i}]: ${e1[i]} vs ${e2[i]}`);
    }
    tqlEigenvalues(d1, e1, n);
    assertClose(d1, await symmetricEigenvalues(Float64Array.from(g), n), `nb ${nb}`);
  }
});

test('blocked reduction: NaN and Inf in the matrix give NaN eigenvalues, with and without the kernel', async () => {
  const n = 40;
  const g = await gramOfSmallerSide(gaussian(n * n, 3), n, n);
  g[5 * n + 2] = NaN;
  g[2 * n + 5] = NaN;
  const { kernel, javascript } = await eigenvaluesBothWays(g, n);
  assert.ok(kernel.some(Number.isNaN) && javascript.some(Number.isNaN));
});

/** ‖A·v - λ·v‖∞ and |vᵢ·vⱼ - δᵢⱼ| over the kept eigenvectors, relative to ‖A‖ (max |λ|). */
function eigenErrors(a: Float64Array, n: number, values: Float64Array, vectors: Float64Array, count: number): { residual: number; orthogonality: number } {
  const norm = Math.max(...Array.from(values, Math.abs), Number.MIN_VALUE);
  let residual = 0;
  let orthogonality = 0;
  for (let p = 0; p < count; p++) {
    const v = vectors.subarray(p * n, p * n + n);
    for (let i = 0; i < n; i++) {
      let av = 0;
      // The lower triangle is what the decomposition reads.
      for (let k = 0; k < n; k++) av += (k <= i ? a[i * n + k] : a[k * n + i]) * v[k];
      residual = Math.max(residual, Math.abs(av - values[p] * v[i]) / norm);
    }
    for (let q = 0; q <= p; q++) {
      let dot = 0;
      for (let k = 0; k < n; k++) dot += v[k] * vectors[q * n + k];
      orthogonality = Math.max(orthogonality, Math.abs(dot - (p === q ? 1 : 0)));
    }
  }
  return { residual, orthogonality };
}

for (const [name, array] of reference) {
  if (name.endsWith('_eig')) continue;
  test(`eigenvectors (inverse iteration, back through the reflectors): ${name}`, async () => {
    const n = array.shape[0];
    const a = float64(array.data);
    const want = float64(reference.get(`${name}_eig`)!.data);
    for (const kernels of [true, false]) {
      useKernels(kernels);
      try {
        for (const keep of [n, Math.ceil(n / 3)]) {
          const { values, vectors } = await symmetricEigen(a, n, undefined, () => keep);
          assertClose(values, want, `${kernels ? 'kernel' : 'JavaScript'} values`);
          assert.equal(vectors.length, keep * n);
          const { residual, orthogonality } = eigenErrors(a, n, values, vectors, keep);
          assert.ok(residual <= 1e-12, `${kernels ? 'kernel' : 'JavaScript'}, ${keep} kept: ‖Av - λv‖ / ‖A‖ = ${residual}`);
          assert.ok(orthogonality <= 1e-9, `${kernels ? 'kernel' : 'JavaScript'}, ${keep} kept: |VᵀV - I| = ${orthogonality}`);
        }
      } finally {
        useKernels(true);
      }
    }
  });
}

test('eigenvectors of a 240 × 240 Gram of a rank-70 weight (a 170-fold zero eigenvalue) stay orthonormal', async () => {
  const [n, cols, rank] = [240, 300, 70];
  const u = gaussian(n * rank, 21);
  const v = gaussian(rank * cols, 22);
  const w = new Float32Array(n * cols);
  for (let i = 0; i < n; i++) for (let r = 0; r < rank; r++) for (let j = 0; j < cols; j++) w[i * cols + j] += u[i * rank + r] * v[r * cols + j];
  const g = await gramOfSmallerSide(w, n, cols);
  const { values, vectors } = await symmetricEigen(g, n);
  const { residual, orthogonality } = eigenErrors(g, n, values, vectors, n);
  assert.ok(residual <= 1e-12 && orthogonality <= 1e-9, `residual ${residual}, orthogonality ${orthogonality}`);
});
