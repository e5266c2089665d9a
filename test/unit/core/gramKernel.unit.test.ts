/**
 * The WebAssembly Gram kernel against the plain JavaScript it stands in for (lowRank.ts's
 * gramOfSmallerSide), on the shapes that stress its padding and panels (empty, 1×1, odd sides,
 * tall and wide, more columns than one panel) and on awkward values (denormals, NaN, ±Inf); and
 * the kernel's eigenvalues against numpy's SVD of the fixture matrices (stats_expected.json), to
 * float32 rounding over one block.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { gramOfSmallerSide, javascriptLoops, symmetricEigenvalues } from '../../../src/analyzers/lowRank';
import { GramKernel, KBLOCK, withGramKernel } from '../../../src/analyzers/wasm/gramKernel';
import { seededRandom } from '../../../src/core/random';
import { openModel } from '../../../src/core/onnx/model';
import { readDenseFloat32 } from '../../../src/core/onnx/tensorData';
import { fixtureModels, readJson } from '../../helpers/paths';

function gaussian(n: number, seed: number, scale = 1): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));
}

/**
 * Equal where not finite; where finite, within float32 rounding over one block of KBLOCK products
 * (the kernel sums each block in float32, the blocks in float64), relative to Σ|products|.
 */
function assertSameGram(actual: Float64Array, wanted: Float64Array, w: Float32Array, rows: number, cols: number): void {
  assert.equal(actual.length, wanted.length);
  const n = Math.min(rows, cols);
  const k = Math.max(rows, cols);
  const at = (i: number, t: number): number => (rows <= cols ? w[i * cols + t] : w[t * cols + i]);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const a = actual[i * n + j];
      const b = wanted[i * n + j];
      if (!Number.isFinite(b) || !Number.isFinite(a)) {
        assert.ok(Object.is(a, b), `g[${i}][${j}]: ${a} vs ${b}`);
        continue;
      }
      let magnitude = 0;
      for (let t = 0; t < k; t++) magnitude += Math.abs(at(i, t) * at(j, t));
      assert.ok(Math.abs(a - b) <= (Math.min(k, KBLOCK) + 2) * 2 ** -24 * magnitude, `g[${i}][${j}]: ${a} vs ${b}`);
    }
  }
}

const cases: Record<string, () => { w: Float32Array; rows: number; cols: number }> = {
  'empty (0 rows)': () => ({ w: new Float32Array(0), rows: 0, cols: 5 }),
  'empty (0 columns)': () => ({ w: new Float32Array(0), rows: 5, cols: 0 }),
  '1 element': () => ({ w: Float32Array.of(-3.5), rows: 1, cols: 1 }),
  'one column': () => ({ w: gaussian(7, 1), rows: 7, cols: 1 }),
  'odd sides, wide': () => ({ w: gaussian(7 * 13, 2), rows: 7, cols: 13 }),
  'odd sides, tall': () => ({ w: gaussian(13 * 7, 3), rows: 13, cols: 7 }),
  'wide, several panels, odd last one': () => ({ w: gaussian(9 * 301, 4), rows: 9, cols: 301 }),
  'tall, several panels': () => ({ w: gaussian(517 * 6, 5), rows: 517, cols: 6 }),
  'square, many tiles': () => ({ w: gaussian(130 * 130, 6, 0.02), rows: 130, cols: 130 }),
  denormals: () => ({ w: Float32Array.from(gaussian(11 * 17, 7), (x) => x * 1e-39), rows: 11, cols: 17 }),
  'NaN and ±Inf': () => {
    const w = gaussian(6 * 10, 8);
    w[3] = NaN;
    w[25] = Infinity;
    w[47] = -Infinity;
    return { w, rows: 6, cols: 10 };
  },
};

for (const [name, make] of Object.entries(cases)) {
  test(`Gram kernel = JavaScript: ${name}`, async () => {
    const { w, rows, cols } = make();
    const kernel = (await new GramKernel().gram(w, rows, cols)).g;
    assertSameGram(kernel, await gramOfSmallerSide(w, rows, cols), w, rows, cols);
  });
}

test('Gram kernel: one instance reused across sizes gives each its own answer', async () => {
  const kernel = new GramKernel();
  const big = gaussian(200 * 150, 9);
  const small = gaussian(3 * 5, 10);
  await kernel.gram(big, 200, 150);
  assertSameGram((await kernel.gram(small, 3, 5)).g, await gramOfSmallerSide(small, 3, 5), small, 3, 5);
});

test('Gram kernel: analyses running at once on one thread do not share memory', async () => {
  const a = gaussian(40 * 700, 11);
  const b = gaussian(700 * 33, 12);
  let turns = 0;
  const checkpoint = async (): Promise<void> => {
    turns++;
    await new Promise((resolve) => setImmediate(resolve));
  };
  const gramOf = (w: Float32Array, rows: number, cols: number): Promise<Float64Array | null> => withGramKernel(async (k) => (await k.gram(w, rows, cols, checkpoint)).g.slice());
  const [ga, gb] = await Promise.all([gramOf(a, 40, 700), gramOf(b, 700, 33)]);
  assert.ok(turns > 4, 'both awaited between panels');
  assertSameGram(ga!, await gramOfSmallerSide(a, 40, 700), a, 40, 700);
  assertSameGram(gb!, await gramOfSmallerSide(b, 700, 33), b, 700, 33);
});

for (const n of [1, 2, 3, 8, 37, 130]) {
  test(`Householder loops: the kernel's = JavaScript's (n = ${n})`, async () => {
    const w = gaussian(n * (n + 5), 40 + n);
    const kernel = new GramKernel();
    const { g, scratch } = await kernel.gram(w, n, n + 5);
    const a = g.slice();
    // One step's loops on the same input: symv within summation order, rank2 to the bit.
    const i = n - 1;
    const l = i - 1;
    if (l >= 0) {
      const e = new Float64Array(n);
      scratch.fill(0);
      kernel.loops.symv(g, n, i, l, scratch);
      javascriptLoops.symv(a, n, i, l, e);
      for (let j = 0; j <= l; j++) assert.ok(Math.abs(scratch[j] - e[j]) <= 1e-12 * Math.max(1, Math.abs(e[j])), `symv e[${j}]: ${scratch[j]} vs ${e[j]}`);
      scratch.set(e);
      kernel.loops.rank2(g, n, i, l, scratch);
      javascriptLoops.rank2(a, n, i, l, e);
      assert.deepEqual(Array.from(g), Array.from(a), 'rank2');
    }
    // The whole reduction: eigenvalues within float64 rounding of the JavaScript ones.
    const again = await kernel.gram(w, n, n + 5);
    const jsEig = await symmetricEigenvalues(again.g.slice(), n);
    const kernelEig = await symmetricEigenvalues(again.g, n, undefined, kernel.loops, again.scratch);
    const top = Math.max(...jsEig);
    jsEig.forEach((v, k) => assert.ok(Math.abs(kernelEig[k] - v) <= 1e-12 * top, `eigenvalue ${k}: ${kernelEig[k]} vs ${v}`));
  });
}

interface LowRankReference {
  lowRank?: { rows: number; cols: number; energies: number[] };
}

test("Gram kernel: eigenvalues of the fixtures' matrices match numpy's SVD", async () => {
  const expected = readJson<Record<string, LowRankReference>>(path.join(fixtureModels, 'stats_expected.json'));
  const model = openModel(path.join(fixtureModels, 'stats.onnx'));
  let checked = 0;
  for (const [name, want] of Object.entries(expected)) {
    const lr = want.lowRank;
    if (!lr) continue;
    const w = await readDenseFloat32(model.index.tensors.find((x) => x.name === name)!);
    const n = Math.min(lr.rows, lr.cols);
    const kernel = new GramKernel();
    const { g, scratch } = await kernel.gram(w, lr.rows, lr.cols);
    const eig = await symmetricEigenvalues(g, n, undefined, kernel.loops, scratch);
    const sorted = Array.from(eig, (v) => Math.max(0, v)).sort((x, y) => y - x);
    // float32 sums over one block of KBLOCK products, relative to the largest energy
    const tolerance = (Math.min(Math.max(lr.rows, lr.cols), KBLOCK) + 2) * 2 ** -24 * lr.energies[0];
    sorted.forEach((v, i) => assert.ok(Math.abs(v - lr.energies[i]) <= tolerance, `${name} energy ${i}: ${v} vs ${lr.energies[i]}`));
    checked++;
  }
  assert.ok(checked > 0, 'the fixture has matrices');
});
