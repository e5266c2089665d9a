/**
 * The root-free QL iteration (tridiagonalEigenvalues) against the implicit QL reference
 * (tqlEigenvalues) and against closed forms: the second-difference matrix, whose eigenvalues are
 * 2 - 2·cos(kπ/(n+1)), and Wilkinson's W21+ (close pairs); random, graded, zero-diagonal and
 * split matrices; 0, 1 and 2 rows; values whose squares would leave float64 (the reference runs).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { tqlEigenvalues, tridiagonalEigenvalues } from '../../../src/analyzers/tridiagonalEigenvalues';
import { seededRandom } from '../../../src/core/random';

const sorted = (x: ArrayLike<number>): number[] => Array.from(x).sort((a, b) => a - b);

/** Both solvers on copies of (d, e); e[i] couples rows i and i-1, e[0] unused. */
function solveBoth(d: ArrayLike<number>, e: ArrayLike<number>, by: 'root-free' | 'reference' = 'root-free'): { fast: number[]; reference: number[] } {
  const n = d.length;
  const d1 = Float64Array.from(d);
  const e1 = Float64Array.from(e);
  // The fast iteration must answer itself: a fallback to the reference would pass every comparison.
  assert.equal(tridiagonalEigenvalues(d1, e1, n), by);
  const d2 = Float64Array.from(d);
  const e2 = Float64Array.from(e);
  tqlEigenvalues(d2, e2, n);
  return { fast: sorted(d1), reference: sorted(d2) };
}

/** Every eigenvalue within `ulps`·n float64 epsilons of the largest magnitude. */
function assertClose(actual: number[], wanted: number[], what: string, ulps = 16): void {
  assert.equal(actual.length, wanted.length, what);
  const top = Math.max(0, ...wanted.map(Math.abs));
  const tolerance = ulps * Math.max(1, wanted.length) * Number.EPSILON * top;
  wanted.forEach((v, k) => assert.ok(Math.abs(actual[k] - v) <= tolerance, `${what} eigenvalue ${k}: ${actual[k]} vs ${v} (tolerance ${tolerance})`));
}

test('second-difference matrix: the closed form, n = 1…200', () => {
  for (const n of [1, 2, 3, 7, 64, 200]) {
    const d = new Float64Array(n).fill(2);
    const e = new Float64Array(n).fill(-1);
    const wanted = sorted(Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1))));
    const { fast, reference } = solveBoth(d, e);
    assertClose(fast, wanted, `n = ${n}`);
    assertClose(reference, wanted, `reference n = ${n}`);
  }
});

test("Wilkinson's W21+: close pairs resolved like the reference", () => {
  const d = Float64Array.from({ length: 21 }, (_, i) => Math.abs(10 - i));
  const e = new Float64Array(21).fill(1);
  const { fast, reference } = solveBoth(d, e);
  assertClose(fast, reference, 'W21+');
  // Its two largest agree to about 1e-14 and must stay two eigenvalues.
  assert.ok(Math.abs(fast[20] - fast[19]) < 1e-12 && fast[20] > 10.74 && fast[19] > 10.74, `${fast[19]}, ${fast[20]}`);
});

test('random, graded, zero-diagonal and split matrices agree with the reference', () => {
  const random = seededRandom(7);
  const cases: [string, (i: number) => number, (i: number) => number][] = [
    ['random', () => random() - 0.5, () => random() - 0.5],
    ['graded 1e-8…1e8', (i) => 10 ** (-8 + (16 * i) / 300) * (random() + 0.5), (i) => 10 ** (-8 + (16 * i) / 300) * (random() - 0.5)],
    ['zero diagonal', () => 0, () => random() + 0.1],
    ['split every 10 rows', () => random(), (i) => (i % 10 === 0 ? 0 : random())],
    ['positive semidefinite-like', () => random() * random(), () => 1e-3 * (random() - 0.5)],
    ['tiny scale', () => 1e-120 * random(), () => 1e-120 * random()],
  ];
  for (const [what, diagonal, offDiagonal] of cases) {
    const n = 300;
    const d = Float64Array.from({ length: n }, (_, i) => diagonal(i));
    const e = Float64Array.from({ length: n }, (_, i) => (i === 0 ? 0 : offDiagonal(i)));
    const { fast, reference } = solveBoth(d, e);
    assertClose(fast, reference, what);
  }
});

test('empty, one row, two rows, all zero', () => {
  assert.deepEqual(solveBoth([], []).fast, []);
  assert.deepEqual(solveBoth([3], [0]).fast, [3]);
  assertClose(solveBoth([1, 1], [0, 1]).fast, [0, 2], '2×2');
  assertClose(solveBoth([0, 4], [0, 0]).fast, [0, 4], '2×2 split');
  const [a, b, c] = [-1e-3, 2, 5];
  const half = Math.sqrt(((a - c) / 2) ** 2 + b * b);
  assertClose(solveBoth([a, c], [0, b]).fast, [(a + c) / 2 - half, (a + c) / 2 + half], '2×2 mixed signs');
  assert.deepEqual(solveBoth([0, 0, 0], [0, 0, 0]).fast, [0, 0, 0]);
});

test('squares out of float64 range: the reference answers, bit for bit', () => {
  for (const scale of [1e200, 1e-200]) {
    const d = Float64Array.from({ length: 50 }, (_, i) => scale * Math.sin(i + 1));
    const e = Float64Array.from({ length: 50 }, (_, i) => (i === 0 ? 0 : scale * Math.cos(i)));
    const { fast, reference } = solveBoth(d, e, 'reference');
    assert.deepEqual(fast, reference, `scale ${scale}`);
  }
});
