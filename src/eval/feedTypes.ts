/**
 * One feed for two models that take different element types: an FP16 conversion takes float16
 * where its FP32 original takes float. Each model gets the feed in its own types (floats between
 * float32, float16 and float64; int64 and int32 ids); any other difference is an error naming the
 * model and the input, not onnxruntime's "Unexpected input data type".
 */
import * as path from 'node:path';
import { float16Bits } from '../core/onnx/halfFloat';
import { floatValues } from './floatOutputs';
import type { Feed, TensorData, TensorType } from './feed';

const FLOATS: readonly string[] = ['float32', 'float16', 'float64'];
const IDS: readonly string[] = ['int64', 'int32'];

function converted(t: TensorData, to: TensorType): TensorData {
  if (FLOATS.includes(to)) {
    const values = floatValues(t.type, t.data)!;
    const data = to === 'float16' ? Uint16Array.from(values, float16Bits) : to === 'float64' ? Float64Array.from(values) : values;
    return { type: to, dims: t.dims, data };
  }
  const data = to === 'int32' ? Int32Array.from(t.data as BigInt64Array, Number) : BigInt64Array.from(t.data as Int32Array, (v) => BigInt(v));
  return { type: to, dims: t.dims, data };
}

/** `feed` in the element types of `types` (a model's inputs by name); `model` is the file, named in errors. */
export function feedFor(feed: Feed, types: Readonly<Record<string, string>>, model: string): Feed {
  return Object.fromEntries(
    Object.entries(feed).map(([name, t]) => {
      const to = types[name];
      if (to === undefined || to === t.type) return [name, t];
      const both = (group: readonly string[]): boolean => group.includes(t.type) && group.includes(to);
      if (!both(FLOATS) && !both(IDS)) throw new Error(`${path.basename(model)} takes input '${name}' as ${to}; the data for it are ${t.type}`);
      return [name, converted(t, to as TensorType)];
    }),
  );
}
