/**
 * The float types a weight may be stored in (FLOAT, FLOAT16, BFLOAT16, DOUBLE) and how a
 * transform writes values back in the weight's own type: transforms compute in float32 and
 * round their results to what the source type stores, so the error they report is the error
 * of the values the saved model holds.
 */
import { DataType, dataTypeName } from '../core/onnx/dataTypes';
import type { TensorProto } from '../core/onnx/proto';
import { float16Bits } from '../core/onnx/halfFloat';
import { bytesOf, rawTensor } from './tensorBuild';

import { floatBytes, isFloatSource, type FloatSource } from '../core/onnx/dataTypes';

// defined beside the other data types, where the analysis reads them too
export { floatBytes, isFloatSource, type FloatSource };

/** Short name for messages and details: float32, float16, bfloat16, float64. */
export function floatName(dataType: FloatSource): string {
  switch (dataType) {
    case DataType.Float: return 'float32';
    case DataType.Float16: return 'float16';
    case DataType.BFloat16: return 'bfloat16';
    case DataType.Double: return 'float64';
  }
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** BFLOAT16 bits of a float, rounding to nearest even (NaN stays a quiet NaN). */
export function bfloat16Bits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  if ((x & 0x7fffffff) > 0x7f800000) return ((x >>> 16) | 0x40) & 0xffff;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The float32 value of FLOAT16 bits. */
export function float16Value(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return exp === 0 ? sign * mant * 2 ** -24 : sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function bfloat16Value(bits: number): number {
  u32[0] = bits << 16;
  return f32[0];
}

/** The value `x` becomes once stored as `dataType` (float32 arithmetic; DOUBLE keeps it). */
export function roundTo(dataType: FloatSource, x: number): number {
  switch (dataType) {
    case DataType.Float16: return float16Value(float16Bits(x));
    case DataType.BFloat16: return bfloat16Value(bfloat16Bits(x));
    default: return Math.fround(x);
  }
}

/** roundTo FLOAT16 and BFLOAT16 as functions, one each (the quantization kernel knows them by identity). */
export const roundToHalf = (x: number): number => float16Value(float16Bits(x));
export const roundToBrain = (x: number): number => bfloat16Value(bfloat16Bits(x));

/** `roundTo` for one type as a function: Math.fround itself for the 32-bit ones; each one function, so the quantization kernel recognizes it. */
export function rounderTo(dataType: FloatSource): (x: number) => number {
  return dataType === DataType.Float16 ? roundToHalf : dataType === DataType.BFloat16 ? roundToBrain : Math.fround;
}

/** The least value of `dataType` not below a positive `x` (FLOAT16 and BFLOAT16 step up; others round to nearest). */
export function roundUpTo(dataType: FloatSource, x: number): number {
  const r = roundTo(dataType, x);
  if (r >= x || !(x > 0)) return r;
  if (dataType === DataType.Float16) return float16Value(float16Bits(r) + 1);
  if (dataType === DataType.BFloat16) return bfloat16Value(bfloat16Bits(r) + 1);
  return r;
}

/** `values` as `dataType` stores them (a new array; the same values for FLOAT and DOUBLE). */
export function roundedTo(dataType: FloatSource, values: Float32Array): Float32Array {
  if (dataType === DataType.Float || dataType === DataType.Double) return values;
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = roundTo(dataType, values[i]);
  return out;
}

/** A tensor of `values` stored as `dataType` (raw_data, little-endian). */
export function floatSourceTensor(name: string, dataType: FloatSource, dims: readonly number[], values: ArrayLike<number>): TensorProto {
  switch (dataType) {
    case DataType.Float:
      return rawTensor(name, dataType, dims, bytesOf(Float32Array.from(values)));
    case DataType.Double:
      return rawTensor(name, dataType, dims, bytesOf(Float64Array.from(values)));
    case DataType.Float16: {
      const bits = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) bits[i] = float16Bits(values[i]);
      return rawTensor(name, dataType, dims, bytesOf(bits));
    }
    case DataType.BFloat16: {
      const bits = new Uint16Array(values.length);
      for (let i = 0; i < values.length; i++) bits[i] = bfloat16Bits(values[i]);
      return rawTensor(name, dataType, dims, bytesOf(bits));
    }
  }
}

/** Why a data type is not a float source a transform can rewrite, in plain words. */
export function notFloatReason(dataType: number): string {
  const name = dataTypeName(dataType);
  if (dataType === DataType.Int8 || dataType === DataType.Uint8 || dataType === DataType.Int4 || dataType === DataType.Uint4) {
    return `it holds ${name} codes, not float weights`;
  }
  return `it is ${name}, not a float type (FLOAT, FLOAT16, BFLOAT16 or DOUBLE)`;
}

/** The weight's raw bytes with every element that `values` holds as 0 set to 0 (exact for any float type). */
export function zeroedRaw(raw: Uint8Array, dataType: FloatSource, values: Float32Array): Uint8Array {
  const width = floatBytes(dataType);
  const out = Uint8Array.from(raw);
  for (let i = 0; i < values.length; i++) if (values[i] === 0) out.fill(0, i * width, (i + 1) * width);
  return out;
}

/** Why values cannot be rewritten as weights: infinities or NaNs (an attention mask of -inf, say), or undefined. */
export function nonFiniteReason(values: Float32Array): string | undefined {
  for (let i = 0; i < values.length; i++) {
    if (values[i] - values[i] !== 0) return `it holds ${Number.isNaN(values[i]) ? 'NaN' : 'infinite'} values (a mask or a constant, not weights)`;
  }
  return undefined;
}
