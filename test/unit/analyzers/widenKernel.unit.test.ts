/**
 * The statistics kernel's FLOAT16/BFLOAT16 widening and per-channel ranges against the plain
 * JavaScript they replace: every one of the 65,536 codes of each type to the bit (denormals,
 * ±0, ±Inf, NaN), at every length from 0 to 20 (the vector loop's tail) and from an odd start;
 * channel ranges for channels as runs (Conv) and as columns (the last axis), from chunk starts
 * inside a run or a row.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { StatsKernel } from '../../../src/analyzers/wasm/statsKernel';
import { widenToFloat32 } from '../../../src/core/onnx/widen';
import { DataType } from '../../../src/core/onnx/dataTypes';
import { seededRandom } from '../../../src/core/random';

const bitsOf = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

function sameFloats(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length, what);
  const g = bitsOf(got);
  const w = bitsOf(want);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) assert.ok(Number.isNaN(got[i]), `${what}: element ${i} should be NaN`);
    else assert.equal(g[i], w[i], `${what}: element ${i} (${want[i]}) widened to ${got[i]}`);
  }
}

for (const [name, dataType] of [['FLOAT16', DataType.Float16], ['BFLOAT16', DataType.BFloat16]] as const) {
  test(`kernel widens every ${name} code exactly as widenToFloat32`, () => {
    const codes = new Uint16Array(65536).map((_, i) => i);
    const raw = new Uint8Array(codes.buffer);
    const kernel = new StatsKernel();
    sameFloats(Float32Array.from(kernel.widen(dataType, raw, 0, 65536, 256)!), widenToFloat32(dataType, raw, 0, 65536), name);
    for (let length = 0; length <= 20; length++) {
      for (const first of [0, 1, 0xfbf8, 65536 - length]) {
        const got = Float32Array.from(kernel.widen(dataType, raw, first, length, 256)!);
        sameFloats(got, widenToFloat32(dataType, raw, first, length), `${name} [${first}, +${length})`);
      }
    }
    // raw_data at an odd byte offset inside the file
    const odd = new Uint8Array(2 * 1001 + 1).subarray(1);
    odd.set(raw.subarray(2 * 31000, 2 * 32001));
    sameFloats(Float32Array.from(kernel.widen(dataType, odd, 0, 1001, 7)!), widenToFloat32(dataType, odd, 0, 1001), `${name} at an odd offset`);
  });
}

test('kernel widen leaves other types to widenToFloat32', () => {
  assert.equal(new StatsKernel().widen(DataType.Float, new Uint8Array(8), 0, 2, 256), undefined);
});

/** The reference: a channel's range by the channel of each element, one at a time. */
function rangesByElement(v: Float32Array, first: number, inner: number, size: number, lows: Float64Array, highs: Float64Array): void {
  for (let i = 0; i < v.length; i++) {
    const c = Math.floor((first + i) / inner) % size;
    if (v[i] < lows[c]) lows[c] = v[i];
    if (v[i] > highs[c]) highs[c] = v[i];
  }
}

test('kernel channel ranges equal the per-element reference (runs, columns, chunk starts inside them)', () => {
  const random = seededRandom(5);
  const kernel = new StatsKernel();
  for (const [inner, size] of [[1, 1], [1, 3], [1, 8], [1, 13], [2, 5], [3, 4], [9, 6], [64, 3], [1, 1030]]) {
    for (const [first, length] of [[0, inner * size * 3], [1, 37], [inner * size - 1, 2 * inner * size + 5], [5, 0], [0, 1], [7, 4 * inner * size + 3]]) {
      const values = Float32Array.from({ length }, () => Math.fround((random() - 0.5) * 10));
      const wantLows = new Float64Array(size).fill(Infinity);
      const wantHighs = new Float64Array(size).fill(-Infinity);
      rangesByElement(values, first, inner, size, wantLows, wantHighs);
      // started from ranges an earlier chunk left, as pass 1 carries them chunk to chunk
      const lows = new Float64Array(size).fill(Infinity);
      const highs = new Float64Array(size).fill(-Infinity);
      kernel.prepare(length, 256, size).set(values);
      kernel.channelRanges(first, inner, lows, highs);
      assert.deepEqual([...lows], [...wantLows], `inner ${inner}, ${size} channels, from ${first}, ${length} values: lows`);
      assert.deepEqual([...highs], [...wantHighs], `inner ${inner}, ${size} channels, from ${first}, ${length} values: highs`);
    }
  }
});
