/**
 * Which stored tensors belong to which layer.
 *
 * A layer is a node that computes with stored tensors (Conv, Gemm, MatMul, LSTM, a bias Add...).
 * Its weights are the stored tensors it consumes, followed back through weight-only chains
 * (Cast, DequantizeLinear, Reshape, Transpose...: nodes whose inputs are all constant). Each
 * stored tensor belongs to one layer, the first to use it in graph order; tensors used only as
 * shapes, axes, indices or quantization parameters of activations, INT64 tensors (shapes and
 * indices) and scalar constants such as epsilons are no layer's weights: they are reported as unattributed.
 * Weights stored as something else than their values (quantized codes, packed blocks, codebook
 * indices: see quantizedOps.ts) carry a Dequantizer, so the analysis can read their real values.
 * A masked weight's chain (maskedChain.ts) is no layer: its consumer owns the mask, the non-zeros
 * (and codebook), and the chain's shape constants and bit shifts are unattributed.
 */
import type { GraphInfo, ModelIndex, NodeInfo, StoredTensor } from '../core/onnx/modelIndex';
import { buildTopology } from '../core/onnx/topology';
import { DataType } from '../core/onnx/dataTypes';
import type { NodeProto } from '../core/onnx/proto';
import { readRawBytesSync } from '../core/onnx/tensorData';
import { readMaskedChain, type MaskedChain } from './maskedChain';
import type { Dequantizer } from './dequantizer';
import { QUANTIZED_NON_WEIGHT_OPERANDS, codebookGather, integerOpScale, operandDequantizers, type GraphLookup } from './quantizedOps';

export interface Layer {
  readonly node: NodeInfo;
  readonly weights: readonly StoredTensor[];
  readonly params: number;
  readonly bytes: number;
  /** Weights stored as something else than their values, and how to get the values back. */
  readonly dequantized?: ReadonlyMap<StoredTensor, Dequantizer>;
}

export interface LayerAttribution {
  readonly layers: readonly Layer[];
  readonly unattributed: readonly StoredTensor[];
}

/** Ops that pass constant data through unchanged in substance: constant in, constant out. */
const WEIGHT_CHAIN_OPS = new Set([
  'Identity', 'Cast', 'CastLike', 'DequantizeLinear', 'Reshape', 'Transpose', 'Unsqueeze', 'Squeeze',
  'Flatten', 'Expand', 'Tile', 'Concat', 'Slice', 'Split',
]);

/** Operand positions that carry shapes, axes, indices or activation quantization parameters. */
const NON_WEIGHT_OPERANDS: Record<string, readonly number[]> = {
  Reshape: [1], Expand: [1], Tile: [1], Unsqueeze: [1], Squeeze: [1], Slice: [1, 2, 3, 4], Pad: [1, 2, 3],
  Resize: [1, 2, 3], Upsample: [1], Split: [1], TopK: [1], ConstantOfShape: [0], Range: [0, 1, 2],
  OneHot: [1, 2], Gather: [1], GatherElements: [1], GatherND: [1], ScatterND: [1], ScatterElements: [1],
  QuantizeLinear: [1, 2], DequantizeLinear: [1, 2], Clip: [1, 2], CumSum: [1], Trilu: [1],
  NonMaxSuppression: [2, 3, 4], If: [0], Loop: [0, 1], ReduceSum: [1], ReduceMean: [1], ReduceMax: [1],
  ReduceMin: [1], ReduceProd: [1], ReduceL1: [1], ReduceL2: [1], ReduceLogSum: [1], ReduceLogSumExp: [1],
  ReduceSumSquare: [1], Shape: [0], Size: [0], DynamicQuantizeLinear: [], Dropout: [1, 2],
};

export function attributeLayers(index: ModelIndex): LayerAttribution {
  const topology = buildTopology(index);
  const valueTensors = new Map<GraphInfo, Map<string, readonly StoredTensor[]>>();
  const attributeTensors = new Map<NodeInfo, StoredTensor[]>();
  for (const t of index.tensors) {
    if (t.isValue) {
      let m = valueTensors.get(t.graph);
      if (!m) valueTensors.set(t.graph, (m = new Map()));
      m.set(t.name, [t]);
    } else if (t.node) {
      const list = attributeTensors.get(t.node);
      if (list) list.push(t);
      else attributeTensors.set(t.node, [t]);
    }
  }

  /** The stored tensors a value is made of, looking through enclosing graphs (inputs shadow). */
  const sourcesOf = (name: string, graph: GraphInfo): readonly StoredTensor[] | undefined => {
    for (let g: GraphInfo | undefined = graph; g; g = g.parent) {
      const local = valueTensors.get(g)?.get(name);
      if (local) return local;
      if (g.inputs.includes(name)) return undefined;
    }
    return undefined;
  };

  const claimed = new Set<StoredTensor>();
  const layers: Layer[] = [];
  const dequantizers = new Map<StoredTensor, Dequantizer>();

  // ConvInteger / MatMulInteger keep their weight scale outside the op (in a Mul that may come
  // first in graph order): found before the walk and kept for the op's layer.
  const outsideScales = new Map<NodeProto, StoredTensor>();
  const reservedFor = new Map<StoredTensor, NodeProto>();
  for (const g of index.graphs) {
    const isInteger = (n: NodeProto): boolean => (n.domain ?? '') === '' && (n.opType === 'ConvInteger' || n.opType === 'MatMulInteger');
    if (!g.nodes.some((n) => isInteger(n.node))) continue;
    const lookup = graphLookup(g, (name) => sourcesOf(name, g));
    for (const { node } of g.nodes) {
      const scale = isInteger(node) ? integerOpScale(node, lookup) : undefined;
      if (!scale) continue;
      outsideScales.set(node, scale);
      if (!reservedFor.has(scale)) reservedFor.set(scale, node);
    }
  }

  // Masked chains: their nodes only pass the weight's parts on to the consumer.
  const maskedNodes = new Map<NodeProto, MaskedChain<StoredTensor> | null>();
  for (const g of index.graphs) {
    if (!g.nodes.some((n) => n.node.opType === 'BitShift')) continue;
    const lookup = graphLookup(g, (name) => sourcesOf(name, g));
    for (const chain of maskedChains(g, lookup)) {
      for (const n of chain.nodes) maskedNodes.set(n, null);
      maskedNodes.set(chain.gather, chain);
    }
  }

  const visit = (graph: GraphInfo): void => {
    for (const info of topology.order(graph)) {
      const { node } = info;
      const op = node.opType ?? '';
      const domain = node.domain ?? '';
      const inputs = node.input.map((name) => (name ? sourcesOf(name, graph) : undefined));
      const isDefaultDomain = domain === '' || domain === 'ai.onnx';

      if (op === 'Constant' && isDefaultDomain) {
        // Its value is already a stored tensor named by its output.
      } else if (maskedNodes.has(node)) {
        const chain = maskedNodes.get(node);
        let m = valueTensors.get(graph);
        if (!m) valueTensors.set(graph, (m = new Map()));
        // Intermediate values carry no weight; the dense weight is its mask and non-zeros (and codebook).
        const parts = chain ? [chain.values, chain.mask, ...(chain.codebook ? [chain.codebook] : [])] : [];
        for (const o of node.output) if (o) m.set(o, parts);
        if (chain) dequantizers.set(chain.values, { kind: 'masked', mask: chain.mask, values: chain.values, dims: chain.dims, ...(chain.codebook ? { codebook: chain.codebook } : {}) });
      } else if (
        isDefaultDomain &&
        (WEIGHT_CHAIN_OPS.has(op) || codebookGather(node, inputs)) &&
        node.input.length > 0 &&
        inputs.every((src, i) => src !== undefined || node.input[i] === '')
      ) {
        const union = [...new Set(inputs.flatMap((s) => s ?? []))];
        const [quantized, scale, zeroPoint] = inputs;
        if (op === 'DequantizeLinear' && quantized?.length === 1 && scale?.length === 1 && (!zeroPoint || zeroPoint.length === 1)) {
          const attribute = (name: string, fallback: number): number => Number(node.attribute.find((a) => a.name === name)?.i ?? fallback);
          dequantizers.set(quantized[0], { kind: 'linear', op, scale: scale[0], zeroPoint: zeroPoint?.[0], axis: attribute('axis', 1), blockSize: attribute('block_size', 0) });
        }
        const clustered = codebookGather(node, inputs);
        if (clustered) dequantizers.set(...clustered);
        let m = valueTensors.get(graph);
        if (!m) valueTensors.set(graph, (m = new Map()));
        for (const o of node.output) if (o) m.set(o, union);
      } else {
        const skip = [
          ...(isDefaultDomain ? (NON_WEIGHT_OPERANDS[op] ?? []) : []),
          ...(QUANTIZED_NON_WEIGHT_OPERANDS[isDefaultDomain ? '' : domain]?.[op] ?? []),
        ];
        const mine: StoredTensor[] = [];
        const take = (t: StoredTensor): void => {
          // INT64 tensors hold shapes, axes and indices; a single value is an epsilon or a scale.
          if (claimed.has(t) || t.elements <= 1 || t.dataType === DataType.Int64) return;
          const reserved = reservedFor.get(t);
          if (reserved && reserved !== node) return;
          claimed.add(t);
          mine.push(t);
        };
        inputs.forEach((src, i) => {
          if (src && !skip.includes(i)) src.forEach(take);
        });
        (attributeTensors.get(info) ?? []).forEach(take);
        const outsideScale = outsideScales.get(node);
        if (outsideScale) take(outsideScale);
        for (const [t, d] of operandDequantizers(node, inputs, outsideScale)) dequantizers.set(t, d);
        if (mine.length > 0) {
          let params = 0;
          let bytes = 0;
          for (const t of mine) {
            params += t.elements;
            bytes += t.bytes;
          }
          const dequantized = new Map(mine.flatMap((t) => (dequantizers.has(t) ? [[t, dequantizers.get(t)!] as const] : [])));
          layers.push({ node: info, weights: mine, params, bytes, ...(dequantized.size ? { dequantized } : {}) });
        }
      }
      for (const sg of topology.subgraphs(info)) visit(sg);
    }
  };

  for (const g of index.graphs) if (!g.parent) visit(g);
  return { layers, unattributed: index.tensors.filter((t) => !claimed.has(t)) };
}

/** The masked weights a graph computes (bytes read only from inside the model file). */
function maskedChains(graph: GraphInfo, lookup: GraphLookup): MaskedChain<StoredTensor>[] {
  const found: MaskedChain<StoredTensor>[] = [];
  for (const { node } of graph.nodes) {
    if (node.opType !== 'Gather') continue;
    const chain = readMaskedChain(node, {
      producer: lookup.producer,
      stored: lookup.stored,
      dataType: (t) => t.dataType,
      bytes: (t) => (t.storage.kind === 'sparse' ? undefined : readRawBytesSync(t)),
    });
    if (chain) found.push(chain);
  }
  return found;
}

/** Producers and consumers of a graph's values, and the stored tensors names refer to directly. */
function graphLookup(graph: GraphInfo, stored: (name: string) => readonly StoredTensor[] | undefined): GraphLookup {
  const consumers = new Map<string, NodeProto[]>();
  const producers = new Map<string, NodeProto>();
  for (const { node } of graph.nodes) {
    for (const name of node.input) {
      const list = consumers.get(name);
      if (list) list.push(node);
      else consumers.set(name, [node]);
    }
    for (const name of node.output) producers.set(name, node);
  }
  return {
    consumers: (name) => consumers.get(name) ?? [],
    producer: (name) => producers.get(name),
    stored: (name) => {
      const s = stored(name);
      return s?.length === 1 ? s[0] : undefined;
    },
  };
}
