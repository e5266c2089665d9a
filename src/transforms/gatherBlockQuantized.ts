/**
 * Quantized embeddings for `format: "matmulnbits"`: a Gather along axis 0 of a stored 2-D table
 * becomes onnxruntime's GatherBlockQuantized (com.microsoft; onnxruntime-node has a CPU kernel),
 * which gathers rows of the packed table and dequantizes only them. The table [rows, cols] is
 * quantized per (row, block of `blockSize` along the row), packed like MatMulNBits' B (uint8,
 * low bits first), with block scales [rows, blocks] and zero points packed per row.
 * GatherBlockQuantized stores no padding, so a row must be whole blocks.
 */
import type { NodeProto, TensorProto } from '../core/onnx/proto';
import type { Layer } from '../analyzers/layers';
import { packRowsNBits } from './nbitsPack';
import { NBITS_DOMAIN, nbitsSource, type NBitsSettings } from './matMulNBits';
import { floatName, floatSourceTensor, rounderTo, roundUpTo } from './floatSource';
import { uint8Tensor } from './tensorBuild';
import { intAttr, makeNode } from './weightEdit';
import { consumersOf } from '../analyzers/realWeightChain';
import { layerWeights, rewritableBlocker, type WeightTarget } from './targets';
import { change, errorFromSums, errorOf, skip, type LayerChange, type LayerSkip, type TransformContext } from './transform';

/** Whether the node is a Gather GatherBlockQuantized could replace (by op alone: the table is checked in gatherTarget). */
export function isEmbeddingGather(node: NodeProto): boolean {
  return node.opType === 'Gather' && ((node.domain ?? '') === '' || node.domain === 'ai.onnx');
}

const axisOf = (node: NodeProto): number => Number(node.attribute.find((a) => a.name === 'axis')?.i ?? 0);

/** The Gather's table, or why GatherBlockQuantized cannot replace it. */
export function gatherTarget(layer: Layer, blockSize: number): { w: WeightTarget; rows: number; cols: number } | LayerSkip {
  const node = layer.node.node;
  if (axisOf(node) !== 0) return skip(layer, 'GatherBlockQuantized gathers rows (axis 0); this Gather uses another axis');
  const w = layerWeights(layer).find((x) => x.operand === 0);
  if (!w || w.tensor.dims.length !== 2) return skip(layer, 'its table is not a stored 2-D matrix');
  const why = rewritableBlocker(w);
  if (why) return skip(layer, `'${w.tensor.name}': ${why}`);
  const [rows, cols] = w.tensor.dims;
  if (cols % blockSize !== 0) return skip(layer, `its rows of ${cols} values are not whole blocks of ${blockSize} (GatherBlockQuantized stores no padding)`);
  const fed = w.real ? w.real.value : w.tensor.name;
  if ((consumersOf(w.tensor.graph).get(fed) ?? []).length !== 1) return skip(layer, `'${w.tensor.name}' is shared with other nodes (a tied embedding)`);
  return { w, rows, cols };
}

/** Rewrites one embedding Gather, or says why not. The caller adds the com.microsoft opset when anything changed. */
export async function toGatherBlockQuantized(ctx: TransformContext, layer: Layer, s: NBitsSettings): Promise<LayerChange | LayerSkip> {
  const t = gatherTarget(layer, s.blockSize);
  if ('reason' in t) return t;
  const source = await nbitsSource(layer, t);
  if ('reason' in source) return source;
  const { src, computeType } = source;
  const { rows, cols } = t;
  const packed = packRowsNBits(src.values, rows, cols, s.bits, s.blockSize, s.symmetric, (x) => roundUpTo(computeType, x), rounderTo(computeType));
  const base = src.name;
  const stored: TensorProto[] = [
    uint8Tensor(ctx.names.fresh(`${base}_Q${s.bits}`), [rows, (cols * s.bits) / 8], packed.b),
    floatSourceTensor(ctx.names.fresh(`${base}_scales`), computeType, [rows, packed.blocks], packed.scales),
  ];
  if (packed.zeroPoints) stored.push(uint8Tensor(ctx.names.fresh(`${base}_zero_points`), [rows, packed.zeroPoints.length / rows], packed.zeroPoints));
  const node = layer.node.node;
  const replacement = makeNode('GatherBlockQuantized', [stored[0].name!, node.input[1], stored[1].name!, ...(packed.zeroPoints ? [stored[2].name!] : [])], [node.output[0]],
    node.name || ctx.names.fresh(`${layer.node.label}_GatherBlockQuantized`),
    [intAttr('gather_axis', 0), intAttr('quantize_axis', 1), intAttr('block_size', s.blockSize), intAttr('bits', s.bits)], NBITS_DOMAIN);
  src.replace(ctx.patch, stored, []);
  ctx.patch.forGraph(layer.node.graph.proto!).replaceNodes.set(node, [replacement]);
  return change(layer, [{
    tensor: src.name,
    bytesBefore: src.bytesBefore,
    bytesAfter: stored.reduce((total, x) => total + (x.rawData?.length ?? 0), 0),
    ...(packed.sums ? errorFromSums(packed.sums) : errorOf(src.values, packed.restored)),
    detail: { format: 'gatherblockquantized', bits: s.bits, blockSize: s.blockSize, symmetric: s.symmetric, rows, cols, scaleType: floatName(computeType), ...(src.requantizedFrom ? { requantizedFrom: src.requantizedFrom } : {}) },
  }]);
}
