/**
 * onnxruntime tensors of any float type as Float32Array, for statistics and metrics: FLOAT16
 * models give FLOAT16 outputs (raw bits in a Uint16Array), DOUBLE models Float64Array.
 */
import { DataType } from '../core/onnx/dataTypes';
import { widenToFloat32 } from '../core/onnx/widen';

const WIDTH: Record<string, DataType> = { float16: DataType.Float16, bfloat16: DataType.BFloat16 };

/** The values of a float tensor (float32, float16, bfloat16, float64) as float32; undefined for other types. */
export function floatValues(type: string, data: unknown): Float32Array | undefined {
  if (type === 'float32') return data as Float32Array;
  if (type === 'float64') return Float32Array.from(data as Float64Array);
  const half = WIDTH[type];
  if (half === undefined) return undefined;
  if (data instanceof Uint16Array) return widenToFloat32(half, new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 0, data.length);
  return Float32Array.from(data as ArrayLike<number>); // a Float16Array where the runtime has one
}
