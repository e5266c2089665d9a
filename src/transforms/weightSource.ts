/**
 * What a rewriting transform (quantize, cluster) reads and replaces for a weight: a float weight's
 * stored tensor, or an already-quantized weight's chain (its real values, re-quantized from them).
 */
import { readDenseFloat32 } from '../core/onnx/tensorData';
import type { NodeProto, TensorProto } from '../core/onnx/proto';
import type { FloatSource } from './floatSource';
import type { ModelPatch } from './patch';
import { chainBytes, readRealWeight, replaceRealWeight } from './realWeight';
import type { WeightTarget } from './targets';
import { replaceTensorWithNodes } from './weightEdit';

export interface WeightSource {
  /** The real values (float32). */
  readonly values: Float32Array;
  /** The type the model computes the weight in: new storage must give the value back in it. */
  readonly type: FloatSource;
  /** The value name the new nodes must output. */
  readonly name: string;
  readonly bytesBefore: number;
  /** For an already-quantized weight: how it was stored ("INT8 per-channel"). */
  readonly requantizedFrom?: string;
  /** Writes the new storage in place of the old. */
  replace(patch: ModelPatch, stored: readonly TensorProto[], nodes: readonly NodeProto[]): void;
}

export async function weightSource(w: WeightTarget): Promise<WeightSource> {
  const t = w.tensor;
  const real = w.real;
  if (!real) {
    return {
      values: await readDenseFloat32(t),
      type: t.dataType as FloatSource,
      name: t.name,
      bytesBefore: t.bytes,
      replace: (patch, stored, nodes) => replaceTensorWithNodes(patch, t, stored, nodes),
    };
  }
  return {
    values: await readRealWeight(w.layer, t),
    type: real.valueType,
    name: real.value,
    bytesBefore: chainBytes(real),
    requantizedFrom: real.label,
    replace: (patch, stored, nodes) => replaceRealWeight(patch, real, stored, nodes),
  };
}

/** The step note for weights that were quantized already. */
export function requantizedNote(from: ReadonlySet<string>): string {
  return `re-quantized from the real values of already-quantized weights (${[...from].join(', ')}): the error reported is against those values, and adds to the earlier quantization's`;
}
