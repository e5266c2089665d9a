/**
 * Building new TensorProtos for transformed weights: raw_data in the little-endian layout the
 * ONNX spec fixes, 4-bit types packed two to a byte (low nibble first).
 */
import { DataType } from '../core/onnx/dataTypes';
import type { TensorProto } from '../core/onnx/proto';

export function rawTensor(name: string, dataType: number, dims: readonly number[], rawData: Uint8Array): TensorProto {
  return {
    name, dataType, dims: [...dims], rawData,
    floatData: [], int32Data: [], stringData: [], int64Data: [], doubleData: [], uint64Data: [],
    externalData: [], metadataProps: [],
  };
}

function bytesOf(a: ArrayBufferView): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function floatTensor(name: string, dims: readonly number[], values: Float32Array): TensorProto {
  return rawTensor(name, DataType.Float, dims, bytesOf(values));
}

export function int8Tensor(name: string, dims: readonly number[], values: Int8Array): TensorProto {
  return rawTensor(name, DataType.Int8, dims, bytesOf(values));
}

export function uint8Tensor(name: string, dims: readonly number[], values: Uint8Array): TensorProto {
  return rawTensor(name, DataType.Uint8, dims, values);
}

export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]): TensorProto {
  return rawTensor(name, DataType.Int64, dims, bytesOf(BigInt64Array.from(values, (v) => BigInt(v))));
}

/** 4-bit codes (INT4: -8..7, UINT4: 0..15) packed two per byte, first element in the low nibble. */
export function packNibbles(codes: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(codes.length / 2));
  for (let i = 0; i < codes.length; i++) {
    const nibble = codes[i] & 0x0f;
    out[i >> 1] |= i & 1 ? nibble << 4 : nibble;
  }
  return out;
}

export function int4Tensor(name: string, dims: readonly number[], codes: ArrayLike<number>, unsigned = false): TensorProto {
  return rawTensor(name, unsigned ? DataType.Uint4 : DataType.Int4, dims, packNibbles(codes));
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE half-precision bits of a float, rounding to nearest even (as numpy's astype(float16)). */
export function float16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0); // Inf / NaN
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow to infinity
  if (e <= 0) {
    if (e < -10) return sign; // underflows to zero
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  const rest = mant & 0x1fff;
  let bits = sign | (e << 10) | (mant >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && bits & 1)) bits++; // may carry into the exponent: still correct
  return bits;
}

export function float16Tensor(name: string, dims: readonly number[], values: Float32Array): TensorProto {
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = float16Bits(values[i]);
  return rawTensor(name, DataType.Float16, dims, bytesOf(bits));
}
