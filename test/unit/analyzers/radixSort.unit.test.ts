/** The float32 radix sort against Float32Array.prototype.sort, bit for bit (so -0 before +0). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { sortFloat32 } from '../../../src/analyzers/radixSort';
import { seededRandom } from '../../../src/core/random';

function sameBits(actual: Float32Array, wanted: Float32Array): void {
  assert.equal(actual.length, wanted.length);
  assert.deepEqual(new Uint32Array(actual.buffer, actual.byteOffset, actual.length), new Uint32Array(wanted.buffer, wanted.byteOffset, wanted.length));
}

const random = seededRandom(17);
const cases: Record<string, () => Float32Array> = {
  empty: () => new Float32Array(0),
  '1 element': () => Float32Array.of(-2.5),
  'odd length, both signs': () => Float32Array.from({ length: 1001 }, () => random() - 0.5),
  'zeros of both signs, ±Inf, extremes': () => Float32Array.of(0, -0, Infinity, -Infinity, 3.4028234663852886e38, -3.4028234663852886e38, 1, -1, -0, 0, 1e-45, -1e-45),
  denormals: () => Float32Array.from({ length: 500 }, () => (random() - 0.5) * 1e-39),
  'all equal (every pass skipped)': () => new Float32Array(300).fill(0.125),
  'few distinct values (FLOAT16-like)': () => Float32Array.from({ length: 20_000 }, () => Math.round((random() - 0.5) * 64) / 64),
  'FLOAT16 values of both signs (low bits zero: the lowest pass skipped)': () => Float32Array.from({ length: 30_000 }, () => Math.round((random() - 0.5) * 2048) / 1024),
  'low digit only 0 or all ones, but not by sign (the pass must run)': () => {
    const bits = Uint32Array.from({ length: 2000 }, (_, i) => ((random() < 0.5 ? 0x3f800000 : 0xbf800000) + (i % 7) * 0x800) | (random() < 0.5 ? 0x7ff : 0));
    return new Float32Array(bits.buffer);
  },
  'wide range': () => Float32Array.from({ length: 50_000 }, () => (random() - 0.5) * 2 ** Math.floor(random() * 200 - 100)),
  'a view into a larger buffer': () => new Float32Array(Float32Array.from({ length: 40 }, () => random() - 0.5).buffer, 8, 30),
};

for (const [name, make] of Object.entries(cases)) {
  test(`sortFloat32 = Float32Array sort: ${name}`, () => {
    const values = make();
    const wanted = Float32Array.from(values).sort();
    const before = values.buffer.byteLength;
    const sorted = sortFloat32(values);
    assert.equal(sorted, values, 'sorts in place');
    assert.equal(values.buffer.byteLength, before);
    sameBits(sorted, wanted);
  });
}
