/**
 * What a rewriting transform (quantize, cluster) reads and replaces for a weight: a float weight's
 * stored tensor, or an already-quantized weight's chain (its real values, re-quantized from them).
 */
import { readDenseFloat32Into, readRawBytesSync } from '../core/onnx/tensorData';
import { DataType } from '../core/onnx/dataTypes';
import type { NodeProto, TensorProto } from '../core/onnx/proto';
import { isFloatSource, type FloatSource } from './floatSource';
import type { ModelPatch } from './patch';
import { readRealWeight, replaceRealWeight } from './realWeight';
import { chainBytes, consumersOf } from '../analyzers/realWeightChain';
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

/** The cast chain's output and type, when the chain (and the weight) feed only this layer and end in a float type. */
function castAbsorbed(w: WeightTarget): { name: string; type: FloatSource } | undefined {
  const casts = w.casts;
  if (w.real || !casts?.length || w.castTo === undefined || !isFloatSource(w.castTo) || w.tensor.graph !== w.layer.node.graph) return undefined;
  const users = consumersOf(w.tensor.graph);
  const values = [w.tensor.name, ...casts.map((n) => n.output[0])];
  if (values.some((v) => (users.get(v) ?? []).length !== 1)) return undefined;
  return { name: casts[casts.length - 1].output[0], type: w.castTo };
}

/** The float type a rewriting transform produces the weight in (see weightSource). */
export function sourceTypeOf(w: WeightTarget): FloatSource {
  return castAbsorbed(w)?.type ?? ((w.real ? w.real.valueType : w.tensor.dataType) as FloatSource);
}

/**
 * Where a caller that is done with a weight's values before it reads the next has them read
 * (saving a fresh array, its page faults and its garbage, per weight).
 */
export interface WeightScratch {
  /** The array `n` values are read into. */
  lend(n: number): Float32Array;
  /** A FLOAT16 or BFLOAT16 weight's raw codes widened into room of the lender's; undefined: read into `lend`'s array instead. */
  widen?(dataType: number, raw: Uint8Array): Float32Array | undefined;
}

/** A stored weight's values, read into `scratch` when given. */
async function readValues(t: WeightTarget['tensor'], scratch: WeightScratch | undefined): Promise<Float32Array> {
  const sixteen = t.dataType === DataType.Float16 || t.dataType === DataType.BFloat16;
  const raw = scratch?.widen && sixteen ? readRawBytesSync(t) : undefined;
  return (raw?.length === 2 * t.elements ? scratch!.widen!(t.dataType, raw) : undefined) ?? readDenseFloat32Into(t, scratch?.lend(t.elements));
}

/** `scratch`, when given, has a stored weight's values read into it (see WeightScratch). */
export async function weightSource(w: WeightTarget, scratch?: WeightScratch): Promise<WeightSource> {
  const t = w.tensor;
  const real = w.real;
  const cast = castAbsorbed(w);
  if (cast) {
    // A weight stored in one float type and cast to another on its way to the layer: the new
    // storage gives the cast's output directly, in the type the layer computes in (no second rounding).
    return {
      values: await readValues(t, scratch),
      type: cast.type,
      name: cast.name,
      bytesBefore: t.bytes,
      replace: (patch, stored, nodes) => {
        const p = patch.forGraph(t.graph.proto!);
        p.addInitializers.push(...stored);
        w.casts!.forEach((n, i) => p.replaceNodes.set(n, i === w.casts!.length - 1 ? [...nodes] : []));
        if (t.origin === 'constant' && t.node) p.replaceNodes.set(t.node.node, []);
        else {
          p.removeInitializers.add(t.name);
          if (t.graph.inputs.includes(t.name)) p.removeInputs.add(t.name);
        }
      },
    };
  }
  if (!real) {
    return {
      values: await readValues(t, scratch),
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
