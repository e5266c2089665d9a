/**
 * Weight quantization to onnxruntime's MatMulNBits (com.microsoft): a MatMul whose weight is a
 * stored [K, N] matrix, or a Gemm with a constant B (either layout) and alpha = beta = 1, becomes
 * one MatMulNBits node with the packed weight, its block scales (the activations' float type)
 * and zero points, and the Gemm's bias. onnxruntime runs it with its blocked 4-bit/8-bit kernels
 * on CPU and GPU, which DequantizeLinear + MatMul does not (that one dequantizes every run).
 */
import { transposed } from '../core/transpose';
import { DataType } from '../core/onnx/dataTypes';
import type { NodeProto, TensorProto } from '../core/onnx/proto';
import type { Layer } from '../analyzers/layers';
import { packStoredNBits, type NBitsPacked } from './nbitsPack';
import { floatName, floatSourceTensor, nonFiniteReason, rounderTo, roundUpTo, type FloatSource } from './floatSource';
import { uint8Tensor } from './tensorBuild';
import { intAttr, makeNode } from './weightEdit';
import { consumersOf } from '../analyzers/realWeightChain';
import { layerWeights, rewritableBlocker, type WeightTarget } from './targets';
import { weightSource, type WeightSource } from './weightSource';
import { change, errorFromSums, errorOf, notSmaller, skip, type LayerChange, type LayerSkip, type TransformContext } from './transform';

export interface NBitsSettings {
  readonly bits: 4 | 8;
  readonly blockSize: number;
  readonly symmetric: boolean;
  /** onnxruntime's accuracy_level: 0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8 compute. */
  readonly accuracyLevel: number;
}

export const NBITS_DOMAIN = 'com.microsoft';

const attr = (n: NodeProto, name: string): number | undefined => {
  const a = n.attribute.find((x) => x.name === name);
  return a?.i !== undefined ? Number(a.i) : a?.f;
};

/** A MatMul or Gemm layer MatMulNBits can replace: its weight W [K, N] (stored [N, K] when transB) and bias. */
export interface NBitsTarget {
  readonly w: WeightTarget;
  readonly transB: boolean;
  readonly k: number;
  readonly n: number;
  readonly bias?: string;
}

/** Whether MatMulNBits can replace the layer, and its weight's shape; says why not. */
export function nbitsTarget(ctx: TransformContext, layer: Layer): NBitsTarget | LayerSkip {
  const node = layer.node.node;
  const op = node.opType ?? '';
  if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') return skip(layer, alreadyPacked(node) ?? `${node.domain}.${op} has no MatMulNBits form`);
  if (op !== 'MatMul' && op !== 'Gemm') return skip(layer, `MatMulNBits replaces MatMul and Gemm layers (GatherBlockQuantized, embedding Gathers), not ${op}`);
  const w = layerWeights(layer).find((x) => x.operand === 1);
  if (!w || w.tensor.dims.length !== 2) return skip(layer, 'its weight input is not a stored 2-D matrix');
  const why = rewritableBlocker(w);
  if (why) return skip(layer, `'${w.tensor.name}': ${why}`);
  const transB = op === 'Gemm' && attr(node, 'transB') === 1;
  if (op === 'Gemm' && (attr(node, 'transA') === 1 || (attr(node, 'alpha') ?? 1) !== 1 || (attr(node, 'beta') ?? 1) !== 1)) {
    return skip(layer, 'a Gemm with transA, alpha or beta has no MatMulNBits form');
  }
  const [rows, cols] = w.tensor.dims;
  const [k, n] = transB ? [cols, rows] : [rows, cols];
  const bias = op === 'Gemm' ? node.input[2] : undefined;
  const biasTensor = bias ? ctx.state.index.tensors.find((t) => t.isValue && t.name === bias && t.graph === layer.node.graph) : undefined;
  if (bias && !(biasTensor && biasTensor.dims.length === 1 && biasTensor.dims[0] === n)) return skip(layer, 'its Gemm bias is not a stored vector of its N outputs');
  const users = consumersOf(w.tensor.graph);
  const fed = w.real ? w.real.value : w.tensor.name;
  if ((users.get(fed) ?? []).length !== 1) return skip(layer, `'${w.tensor.name}' is shared with other nodes`);
  return { w, transB, k, n, bias };
}

/** The weight's source and the type MatMulNBits computes in, or why it cannot. */
export async function nbitsSource(layer: Layer, t: { readonly w: WeightTarget }): Promise<{ src: WeightSource; computeType: FloatSource } | LayerSkip> {
  const src = await weightSource(t.w);
  const bad = nonFiniteReason(src.values);
  if (bad) return skip(layer, `'${t.w.tensor.name}': ${bad}`);
  const computeType = src.type === DataType.Float16 ? DataType.Float16 : DataType.Float;
  if (src.type !== computeType) return skip(layer, `its weight is ${floatName(src.type)}: MatMulNBits computes in float32 or float16`);
  return { src, computeType };
}

/** Rewrites one layer, or says why not. The caller adds the com.microsoft opset when anything changed. */
export async function toMatMulNBits(ctx: TransformContext, layer: Layer, s: NBitsSettings): Promise<LayerChange | LayerSkip> {
  const t = nbitsTarget(ctx, layer);
  if ('reason' in t) return t;
  const source = await nbitsSource(layer, t);
  if ('reason' in source) return source;
  const { src, computeType } = source;
  const packed = packStoredNBits(src.values, t.k, t.n, t.transB, s.bits, s.blockSize, s.symmetric, (x) => roundUpTo(computeType, x), rounderTo(computeType));
  return writeMatMulNBits(ctx, layer, t, src, computeType, packed, s);
}

/**
 * Replaces the layer's node with MatMulNBits over `packed` (round to nearest, or GPTQ's codes
 * through packQuantizedNBits); `detail` adds to the change's detail.
 */
export function writeMatMulNBits(
  ctx: TransformContext, layer: Layer, t: NBitsTarget, src: WeightSource, computeType: FloatSource, packed: NBitsPacked, s: NBitsSettings,
  detail: Readonly<Record<string, unknown>> = {},
): LayerChange | LayerSkip {
  const node = layer.node.node;
  const { k, n, bias } = t;
  const base = src.name;
  const stored: TensorProto[] = [
    uint8Tensor(ctx.names.fresh(`${base}_Q${s.bits}`), [n, packed.blocks, packed.blobBytes], packed.b),
    floatSourceTensor(ctx.names.fresh(`${base}_scales`), computeType, [n * packed.blocks], packed.scales),
  ];
  if (packed.zeroPoints) stored.push(uint8Tensor(ctx.names.fresh(`${base}_zero_points`), [packed.zeroPoints.length], packed.zeroPoints));
  const inputs = [node.input[0], stored[0].name!, stored[1].name!, packed.zeroPoints ? stored[2].name! : '', ...(bias ? ['', bias] : [])];
  const replacement = makeNode('MatMulNBits', inputs, [node.output[0]], node.name || ctx.names.fresh(`${layer.node.label}_MatMulNBits`), [
    intAttr('K', k), intAttr('N', n), intAttr('bits', s.bits), intAttr('block_size', s.blockSize), intAttr('accuracy_level', s.accuracyLevel),
  ], NBITS_DOMAIN);
  const before = src.bytesBefore;
  const after = stored.reduce((total, x) => total + (x.rawData?.length ?? 0), 0);
  // An already-compressed weight (16 clusters, INT4 blocks) can come out bigger, as QDQ's step refuses too.
  if (after >= before) return skip(layer, `'${src.name}': ${notSmaller('MatMulNBits', before, after)}`);
  // The old weight (and its chain) goes; the layer's node becomes MatMulNBits.
  const p = ctx.patch.forGraph(layer.node.graph.proto!);
  src.replace(ctx.patch, stored, []);
  p.replaceNodes.set(node, [replacement]);
  return change(layer, [{
    tensor: src.name,
    bytesBefore: before,
    bytesAfter: after,
    ...(packed.sums ? errorFromSums(packed.sums) : errorOf(src.values, t.transB ? transposed(packed.restored, k, n) : packed.restored)),
    detail: {
      format: 'matmulnbits', bits: s.bits, blockSize: s.blockSize, symmetric: s.symmetric, accuracyLevel: s.accuracyLevel, k, n,
      scaleType: floatName(computeType), ...(src.requantizedFrom ? { requantizedFrom: src.requantizedFrom } : {}), ...detail,
    },
  }]);
}

/** "it is already MatMulNBits, 4 bits in blocks of 32" for our own packed ops; undefined for others. */
function alreadyPacked(node: NodeProto): string | undefined {
  if (node.domain !== NBITS_DOMAIN || (node.opType !== 'MatMulNBits' && node.opType !== 'GatherBlockQuantized')) return undefined;
  const int = (name: string): number | undefined => {
    const a = node.attribute.find((x) => x.name === name);
    return a?.i !== undefined ? Number(a.i) : undefined;
  };
  const bits = int('bits') ?? 4;
  const block = int('block_size');
  return `it is already ${node.opType}, ${bits} bits${block ? ` in blocks of ${block}` : ''} (its codes are not re-packed: start from the float model)`;
}
