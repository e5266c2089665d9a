/**
 * Which stored tensors belong to which layer.
 *
 * A layer is a node that computes with stored tensors (Conv, Gemm, MatMul, LSTM, a bias Add...).
 * Its weights are the stored tensors it consumes, followed back through weight-only chains
 * (Cast, DequantizeLinear, Reshape, Transpose...: nodes whose inputs are all constant). Each
 * stored tensor belongs to one layer, the first to use it in graph order; tensors used only as
 * shapes, axes, indices or quantization parameters of activations, INT64 tensors (shapes and
 * indices) and scalar constants such as epsilons are no layer's weights: they are reported as unattributed.
 */
import type { GraphInfo, ModelIndex, NodeInfo, StoredTensor } from '../core/onnx/modelIndex';
import { buildTopology } from '../core/onnx/topology';
import { DataType } from '../core/onnx/dataTypes';

export interface Layer {
  readonly node: NodeInfo;
  readonly weights: readonly StoredTensor[];
  readonly params: number;
  readonly bytes: number;
  /** Weights that reach the layer through a DequantizeLinear with stored scale (and zero point). */
  readonly dequantized?: ReadonlyMap<StoredTensor, Dequantizer>;
}

/** A DequantizeLinear applied to a stored tensor: its stored parameters and attributes. */
export interface Dequantizer {
  readonly scale: StoredTensor;
  readonly zeroPoint?: StoredTensor;
  readonly axis: number;
  readonly blockSize: number;
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

  const visit = (graph: GraphInfo): void => {
    for (const info of topology.order(graph)) {
      const { node } = info;
      const op = node.opType ?? '';
      const domain = node.domain ?? '';
      const inputs = node.input.map((name) => (name ? sourcesOf(name, graph) : undefined));
      const isDefaultDomain = domain === '' || domain === 'ai.onnx';

      if (op === 'Constant' && isDefaultDomain) {
        // Its value is already a stored tensor named by its output.
      } else if (
        isDefaultDomain &&
        WEIGHT_CHAIN_OPS.has(op) &&
        node.input.length > 0 &&
        inputs.every((src, i) => src !== undefined || node.input[i] === '')
      ) {
        const union = [...new Set(inputs.flatMap((s) => s ?? []))];
        const [quantized, scale, zeroPoint] = inputs;
        if (op === 'DequantizeLinear' && quantized?.length === 1 && scale?.length === 1 && (!zeroPoint || zeroPoint.length === 1)) {
          const attribute = (name: string, fallback: number): number => Number(node.attribute.find((a) => a.name === name)?.i ?? fallback);
          dequantizers.set(quantized[0], { scale: scale[0], zeroPoint: zeroPoint?.[0], axis: attribute('axis', 1), blockSize: attribute('block_size', 0) });
        }
        let m = valueTensors.get(graph);
        if (!m) valueTensors.set(graph, (m = new Map()));
        for (const o of node.output) if (o) m.set(o, union);
      } else {
        const skip = isDefaultDomain ? (NON_WEIGHT_OPERANDS[op] ?? []) : [];
        const mine: StoredTensor[] = [];
        const take = (t: StoredTensor): void => {
          // INT64 tensors hold shapes, axes and indices; a single value is an epsilon or a scale.
          if (claimed.has(t) || t.elements <= 1 || t.dataType === DataType.Int64) return;
          claimed.add(t);
          mine.push(t);
        };
        inputs.forEach((src, i) => {
          if (src && !skip.includes(i)) src.forEach(take);
        });
        (attributeTensors.get(info) ?? []).forEach(take);
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
