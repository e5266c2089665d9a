/**
 * Building new TensorProtos for transformed weights: raw_data in the little-endian layout the
 * ONNX spec fixes, 4-bit types packed two to a byte (low nibble first).
 */
import { DataType } from '../core/onnx/dataTypes';
import { float16Bits } from '../core/onnx/halfFloat';
import type { TensorProto } from '../core/onnx/proto';

export function rawTensor(name: string, dataType: number, dims: readonly number[], rawData: Uint8Array): TensorProto {
  return {
    name, dataType, dims: [...dims], rawData,
    floatData: [], int32Data: [], stringData: [], int64Data: [], doubleData: [], uint64Data: [],
    externalData: [], metadataProps: [],
  };
}

/** A typed array's bytes (a view, no copy). */
export function bytesOf(a: ArrayBufferView): Uint8Array {
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

export { float16Bits };

export function float16Tensor(name: string, dims: readonly number[], values: Float32Array): TensorProto {
  const bits = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) bits[i] = float16Bits(values[i]);
  return rawTensor(name, DataType.Float16, dims, bytesOf(bits));
}
