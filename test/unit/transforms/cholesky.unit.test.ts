/**
 * The inverse Hessian's factor: U is upper triangular with a positive diagonal and UᵀU·A = I,
 * on a matrix far from diagonal, and takes A's place (no other n × n array); a matrix that is not
 * positive definite is refused; the blocked factor (products in WebAssembly) equals the row-by-row
 * one, and made in a kernel's memory (factorArray) it is the same to the bit.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { factorArray, factorCopy, inverseUpperFactor, lowerCholesky } from '../../../src/transforms/cholesky';
import { useKernels } from '../../../src/analyzers/wasm/kernelSwitch';

/** A = BᵀB + I for a fixed dense B: symmetric positive definite, condition well above 1. */
function spd(n: number): Float64Array {
  const b = Float64Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.37) + ((i * 7) % 5) / 5);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    let s = i === j ? 1 : 0;
    for (let m = 0; m < n; m++) s += b[m * n + i] * b[m * n + j];
    a[i * n + j] = s;
  }
  return a;
}

test('UᵀU is A⁻¹, U upper triangular with a positive diagonal, in A\'s place (n = 1, 2, 7, 37)', async () => {
  for (const n of [1, 2, 7, 37]) {
    const a = spd(n);
    const given = Float64Array.from(a);
    const u = await inverseUpperFactor(given, n);
    assert.equal(u, given);
    for (let i = 0; i < n; i++) {
      assert.ok(u[i * n + i] > 0, `n=${n}: U[${i}, ${i}] = ${u[i * n + i]}`);
      for (let j = 0; j < i; j++) assert.equal(u[i * n + j], 0, `n=${n}: U[${i}, ${j}]`);
    }
    let worst = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0; // (UᵀU·A)[i, j]
      for (let m = 0; m < n; m++) {
        let inv = 0;
        for (let r = 0; r < n; r++) inv += u[r * n + i] * u[r * n + m];
        s += inv * a[m * n + j];
      }
      worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
    }
    assert.ok(worst < 1e-9, `n=${n}: max |UᵀU·A − I| = ${worst}`);
  }
});

test('a matrix that is not positive definite is refused with the pivot', () => {
  const a = Float64Array.from([1, 2, 2, 1]);
  assert.throws(() => lowerCholesky(a, 2), /not positive definite \(pivot -3 at 1\)/);
});

test('the blocked factor (matrix products in WebAssembly) is the row-by-row JavaScript one (n = 129, 300)', async () => {
  for (const n of [129, 300]) {
    // Diagonally dominant, far from diagonal: A = BᵀB/n + I with B's entries in [-1, 1).
    const b = Float64Array.from({ length: n * n }, (_, i) => Math.sin(i * 0.61 + 0.3));
    const a = new Float64Array(n * n);
    for (let m = 0; m < n; m++) for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] += (b[m * n + i] * b[m * n + j]) / n;
    for (let i = 0; i < n; i++) a[i * n + i] += 1;
    const blocked = await inverseUpperFactor(Float64Array.from(a), n);
    useKernels(false);
    const plain = await inverseUpperFactor(Float64Array.from(a), n).finally(() => useKernels(true));
    const top = Math.max(...plain.map(Math.abs));
    for (let i = 0; i < n * n; i++) {
      if (plain[i] === 0) assert.equal(blocked[i], 0, `n=${n}: U[${Math.floor(i / n)}, ${i % n}]`);
      else assert.ok(Math.abs(blocked[i] - plain[i]) <= 1e-12 * top, `n=${n}: U[${Math.floor(i / n)}, ${i % n}] ${blocked[i]} vs ${plain[i]}`);
    }
  }
});

test("made in a kernel's memory (factorArray), the factor is the plain array's to the bit; small or without kernels, a plain array", async () => {
  const n = 300;
  const a = spd(n);
  const plain = await inverseUpperFactor(Float64Array.from(a), n);
  const placed = factorCopy(a, n);
  assert.ok(placed.buffer.byteLength > n * n * 8, "in a kernel's memory, not an array of its own");
  assert.equal(await inverseUpperFactor(placed, n), placed);
  assert.deepEqual(placed, plain);
  assert.equal(factorArray(128).buffer.byteLength, 128 * 128 * 8);
  useKernels(false);
  try {
    assert.equal(factorArray(n).buffer.byteLength, n * n * 8);
  } finally {
    useKernels(true);
  }
});
