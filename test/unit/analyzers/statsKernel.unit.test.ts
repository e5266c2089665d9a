/**
 * The WebAssembly statistics kernel against the plain JavaScript it stands in for (which the
 * numpy fixtures check): the same histogram counts to the element, on data chosen to sit on or
 * next to bin edges, where a float32 estimate of the bin is most likely to be wrong.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { Histogram } from '../../../src/analyzers/histogram';
import { computeTensorStats, deviationFromSums } from '../../../src/analyzers/tensorStats';
import { certainFraction, float32AtMost, StatsKernel } from '../../../src/analyzers/wasm/statsKernel';
import { seededRandom } from '../../../src/core/random';
import { DataType } from '../../../src/core/onnx/dataTypes';
import type { TensorInfo } from '../../../src/core/onnx/tensor';

function gaussian(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const random = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = offset + scale * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  return out;
}

const cases: Record<string, () => Float32Array> = {
  'gaussian, length not a multiple of 4': () => gaussian(10_001, 1, 0.05),
  'tiny (tail only)': () => Float32Array.of(0.5, -0.25, 3),
  constant: () => new Float32Array(1001).fill(0.75),
  'zeros of both signs': () => Float32Array.from({ length: 999 }, (_, i) => (i % 3 === 0 ? -0 : i % 3 === 1 ? 0 : i / 999)),
  // Dequantized INT8 weights: 256 levels over a range of 255 steps, so many sit next to an edge.
  'INT8 levels': () => Float32Array.from(gaussian(20_000, 2), (x) => Math.fround(0.0123 * Math.max(-128, Math.min(127, Math.round(x * 40))))),
  // Every value exactly on an edge of the 256-bin histogram over [-1, 1].
  'values on the edges': () => {
    const h = new Histogram({ min: -1, max: 1, bins: 256 });
    return Float32Array.from({ length: 4 * 257 }, (_, i) => h.edges[i % 257]);
  },
  // A narrow range far from zero: float32 edges are coarse against the bin width.
  'narrow range far from zero': () => gaussian(5_000, 3, 0.0005, 1000),
  'wide range, long tail': () => Float32Array.from(gaussian(8_000, 4), (x) => x * x * x * 1e3),
};

for (const [name, make] of Object.entries(cases)) {
  test(`kernel = JavaScript: ${name}`, () => {
    const values = make();
    const kernel = new StatsKernel();
    for (const bins of [256, 7, 1000]) {
      kernel.load(values, bins);
      const first = kernel.firstPass();
      assert.ok(first, 'all finite');
      let min = Infinity;
      let max = -Infinity;
      let sum = 0;
      let squares = 0;
      let zeros = 0;
      for (const x of values) {
        if (x < min) min = x;
        if (x > max) max = x;
        sum += x;
        squares += x * x;
        if (x === 0) zeros++;
      }
      assert.equal(first.min, min);
      assert.equal(first.max, max);
      assert.equal(first.zeros, zeros);
      assert.ok(Math.abs(first.sum - sum) <= 1e-9 * values.reduce((a, x) => a + Math.abs(x), 0), `sum ${first.sum} vs ${sum}`);
      assert.ok(Math.abs(first.squares - squares) <= 1e-12 * squares, `squares ${first.squares} vs ${squares}`);

      const nearLimit = 1e-3 * Math.max(Math.abs(min), Math.abs(max));
      const reference = new Histogram({ min, max, bins });
      reference.add(values);
      let near = 0;
      for (const x of values) if (Math.abs(x) <= nearLimit) near++;
      const histogram = new Histogram({ min, max, bins });
      assert.equal(kernel.secondPass(histogram, nearLimit), near);
      assert.deepEqual(Array.from(histogram.counts), Array.from(reference.counts), `${bins} bins`);
    }
  });
}

test('NaN or Inf in a chunk leaves it to JavaScript', () => {
  const kernel = new StatsKernel();
  for (const bad of [NaN, Infinity, -Infinity]) {
    const values = gaussian(101, 5);
    values[57] = bad;
    kernel.load(values, 256);
    assert.equal(kernel.firstPass(), null);
  }
});

test('float32AtMost gives the largest float32 not above x', () => {
  for (const x of [0, 1e-3, 0.1, 1 / 3, 123.456, 3.4e38, 1e39]) {
    const f = float32AtMost(x);
    assert.ok(f <= x && Math.fround(f) === f, `${x} -> ${f}`);
    const next = new Float32Array(new Uint32Array([new Uint32Array(new Float32Array([f]).buffer)[0] + 1]).buffer)[0];
    assert.ok(next > x || next === Infinity, `${x}: ${next} would also do`);
  }
});

test('a narrow range far from zero sends every value to the exact path', () => {
  const h = new Histogram({ min: 1000, max: 1000.001, bins: 256 });
  assert.equal(certainFraction(h.edges), 1);
  assert.ok(certainFraction(new Histogram({ min: -1, max: 1, bins: 256 }).edges) < 1e-3);
});

function rawTensor(values: Float32Array): TensorInfo {
  const bytes = new Uint8Array(values.buffer.slice(0));
  return { dataType: DataType.Float, dims: [values.length], elements: values.length, bytes: bytes.length, storage: { kind: 'raw', bytes } };
}

test('analyses interleaved on one thread share the kernel without mixing their chunks', async () => {
  const tensors = [gaussian(50_000, 6, 0.1), gaussian(30_001, 7, 2, 1), gaussian(900, 8)].map(rawTensor);
  for (const chunkElements of [4 * 1024 * 1024, 4096]) {
    const alone = [];
    for (const t of tensors) alone.push(await computeTensorStats(t, { chunkElements, redundancy: false }));
    // A signal makes every chunk yield to the event loop, so the three runs interleave.
    const signal = new AbortController().signal;
    const together = await Promise.all(tensors.map((t) => computeTensorStats(t, { chunkElements, redundancy: false, signal })));
    assert.deepEqual(together, alone, `chunks of ${chunkElements}`);
  }
});

/** Two-pass float64 reference: the mean, then the squared deviations from it. */
function twoPassStd(values: Float32Array): number {
  let sum = 0;
  for (const x of values) sum += x;
  const mean = sum / values.length;
  let deviation = 0;
  for (const x of values) deviation += (x - mean) ** 2;
  return Math.sqrt(deviation / values.length);
}

test('std from the sums of pass 1 when they are exact enough, from squared deviations when not', async () => {
  const centred = gaussian(40_000, 9, 0.02);
  const batchNormLike = gaussian(512, 10, 0.3, 1);
  const farFromZero = gaussian(50_000, 11, 0.01, 1000);
  const sums = (v: Float32Array): [number, number, number] => [v.reduce((a, x) => a + x, 0), v.reduce((a, x) => a + x * x, 0), v.length];
  assert.notEqual(deviationFromSums(...sums(centred)), null);
  assert.notEqual(deviationFromSums(...sums(batchNormLike)), null);
  assert.equal(deviationFromSums(...sums(farFromZero)), null, 'mean 1e5 times the spread: the one-pass formula would lose digits');
  assert.equal(deviationFromSums(...sums(new Float32Array(100).fill(0.5))), null, 'a constant: the difference is all rounding');
  for (const values of [centred, batchNormLike, farFromZero]) {
    for (const chunkElements of [4 * 1024 * 1024, 1000]) {
      const s = await computeTensorStats(rawTensor(values), { chunkElements, redundancy: false });
      const want = twoPassStd(values);
      assert.ok(Math.abs(s.std - want) <= 1e-9 * want, `std ${s.std} vs ${want}`);
    }
  }
  assert.equal((await computeTensorStats(rawTensor(new Float32Array(100).fill(0.5)))).std, 0);
});
