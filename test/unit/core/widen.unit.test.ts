/**
 * Every numeric data type widened to Float32, against values worked out by hand from the
 * format definitions (the Python onnx available here predates FLOAT8/INT4/FLOAT4).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { widenToFloat32 } from '../../../src/core/onnx/widen';
import { DataType } from '../../../src/core/onnx/dataTypes';
import { parseModel } from '../../../src/core/onnx/model';
import { readDenseFloat32 } from '../../../src/core/onnx/tensorData';
import { encodeModel, graph, model, tensor } from '../../helpers/modelBuilder';

const widen = (dataType: number, bytes: number[], count = bytes.length): number[] =>
  Array.from(widenToFloat32(dataType, Uint8Array.from(bytes), 0, count));

const same = (got: number[], want: number[]): void => {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => assert.ok(Object.is(g, want[i]) || (Number.isNaN(g) && Number.isNaN(want[i])), `element ${i}: ${g} vs ${want[i]}`));
};

test('FLOAT16: normal, subnormal, zero signs, infinities, NaN', () => {
  // little-endian uint16 codes
  const codes = [0x3c00, 0xc000, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x7e00, 0x7bff];
  const bytes = codes.flatMap((c) => [c & 0xff, c >> 8]);
  same(widen(DataType.Float16, bytes, codes.length), [1, -2, 2 ** -24, -0, Infinity, -Infinity, NaN, 65504]);
});

test('BFLOAT16 keeps the top half of a float32', () => {
  const codes = [0x3f80, 0xc040, 0x7f80];
  same(widen(DataType.BFloat16, codes.flatMap((c) => [c & 0xff, c >> 8]), 3), [1, -3, Infinity]);
});

test('FLOAT16 and BFLOAT16 from odd byte offsets and mid-tensor starts (copied, not viewed)', () => {
  const half = [0x3c00, 0xc000, 0x0001, 0x7bff, 0xfc00];
  const brain = [0x3f80, 0xc040, 0x7f80, 0x0001, 0x8000];
  for (const [dataType, codes, values] of [
    [DataType.Float16, half, [1, -2, 2 ** -24, 65504, -Infinity]],
    [DataType.BFloat16, brain, [1, -3, Infinity, 2 ** -133, -0]],
  ] as const) {
    const bytes = codes.flatMap((c) => [c & 0xff, c >> 8]);
    for (const offset of [0, 1]) {
      const raw = new Uint8Array(offset + bytes.length);
      raw.set(bytes, offset);
      const view = raw.subarray(offset);
      same(Array.from(widenToFloat32(dataType, view, 0, codes.length)), [...values]);
      same(Array.from(widenToFloat32(dataType, view, 2, 3)), values.slice(2));
      // Into a given output that is itself a view (as the kernels' memory is).
      const out = new Float32Array(8).subarray(1, 4);
      widenToFloat32(dataType, view, 1, 3, out);
      same(Array.from(out), values.slice(1, 4));
    }
  }
});

test('FLOAT8 E4M3FN / E4M3FNUZ / E5M2 / E5M2FNUZ / E8M0', () => {
  same(widen(DataType.Float8E4M3FN, [0x38, 0x7e, 0x7f, 0x01, 0xfe, 0x80]), [1, 448, NaN, 2 ** -9, -448, -0]);
  same(widen(DataType.Float8E4M3FNUZ, [0x40, 0x7f, 0x80, 0x01]), [1, 240, NaN, 2 ** -10]);
  same(widen(DataType.Float8E5M2, [0x3c, 0x7b, 0x7c, 0xfc, 0x7d, 0x01]), [1, 57344, Infinity, -Infinity, NaN, 2 ** -16]);
  same(widen(DataType.Float8E5M2FNUZ, [0x40, 0x7f, 0x80, 0x01]), [1, 57344, NaN, 2 ** -17]);
  same(widen(DataType.Float8E8M0, [127, 128, 0, 0xff]), [1, 2, 2 ** -127, NaN]);
});

test('4-bit and 2-bit types unpack low bits first', () => {
  same(widen(DataType.Int4, [0xf7, 0x08], 3), [7, -1, -8]);
  same(widen(DataType.Uint4, [0xf7, 0x08], 4), [7, 15, 8, 0]);
  same(widen(DataType.Float4E2M1, [0x10, 0x32, 0x54, 0x76, 0xf9], 10), [0, 0.5, 1, 1.5, 2, 3, 4, 6, -0.5, -6]);
  same(widen(DataType.Int2, [0b11100100], 4), [0, 1, -2, -1]);
  same(widen(DataType.Uint2, [0b11100100], 4), [0, 1, 2, 3]);
});

test('integer types, and a range that starts mid-tensor', () => {
  const i64 = new BigInt64Array([-5n, 2n ** 40n]);
  same(widen(DataType.Int64, Array.from(new Uint8Array(i64.buffer)), 2), [-5, 2 ** 40]);
  same(widen(DataType.Int8, [0xff, 0x80, 0x7f]), [-1, -128, 127]);
  const f = new Float32Array([1, 2, 3, 4]);
  assert.deepEqual(Array.from(widenToFloat32(DataType.Float, new Uint8Array(f.buffer), 2, 2)), [3, 4]);
  // A float32 view at an odd byte offset still reads correctly.
  const shifted = new Uint8Array(17);
  shifted.set(new Uint8Array(f.buffer), 1);
  assert.deepEqual(Array.from(widenToFloat32(DataType.Float, shifted.subarray(1), 0, 4)), [1, 2, 3, 4]);
});

test('typed fields decode like raw_data: int32_data for FLOAT16 and INT4, int64_data, double_data', async () => {
  // int32_data holds FLOAT16 bit patterns, and for INT4 one packed byte per entry.
  const varints = (values: number[]): Uint8Array => {
    const out: number[] = [];
    for (let v of values) {
      while (v >= 0x80) {
        out.push((v & 0x7f) | 0x80);
        v >>>= 7;
      }
      out.push(v);
    }
    return Uint8Array.from(out);
  };
  const tensors = [
    tensor('h', DataType.Float16, [2], undefined, { int32Data: [varints([0x3c00, 0xc000])] }),
    tensor('q', DataType.Int4, [3], undefined, { int32Data: [varints([0xf7, 0x08])] }),
    tensor('l', DataType.Int64, [2], undefined, { int64Data: [varints([3, 300])] }),
    tensor('d', DataType.Double, [2], undefined, { doubleData: [new Uint8Array(new Float64Array([0.5, -8]).buffer)] }),
  ];
  const m = parseModel(encodeModel(model(graph([], tensors))));
  const values = await Promise.all(m.index.tensors.map((t) => readDenseFloat32(t)));
  assert.deepEqual(values.map((v) => Array.from(v)), [[1, -2], [7, -1, -8], [3, 300], [0.5, -8]]);
});
