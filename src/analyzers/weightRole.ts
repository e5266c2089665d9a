/**
 * How a layer's op uses a weight: the axis that holds output channels (per-channel scales,
 * channel pruning) and the axis the op sums over (blocks, N:M groups), known when the stored
 * tensor feeds the op directly or through Casts. One home for the analysis's estimates and the
 * transforms that apply them.
 */
import type { GraphInfo } from '../core/onnx/modelIndex';
import type { NodeProto } from '../core/onnx/proto';
import type { Layer } from './layers';

function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a?.i !== undefined ? Number(a.i) : fallback;
}

export interface WeightRole {
  /** Axis of output channels (one scale per entry of it). */
  readonly channelAxis: number;
  /** Axis the op sums over (blocks and N:M groups run along it). */
  readonly reductionAxis: number;
}

/** How `node` uses the tensor at input `operand` of rank `rank`, when that is known. */
export function weightRole(node: NodeProto, operand: number, rank: number): WeightRole | undefined {
  if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') return undefined;
  switch (node.opType) {
    case 'Conv':
      return operand === 1 && rank >= 3 ? { channelAxis: 0, reductionAxis: 1 } : undefined;
    case 'ConvTranspose':
      return operand === 1 && rank >= 3 ? { channelAxis: 1, reductionAxis: 0 } : undefined;
    case 'Gemm': {
      if (rank !== 2) return undefined;
      if (operand === 1) return intAttribute(node, 'transB', 0) ? { channelAxis: 0, reductionAxis: 1 } : { channelAxis: 1, reductionAxis: 0 };
      if (operand === 0) return intAttribute(node, 'transA', 0) ? { channelAxis: 1, reductionAxis: 0 } : { channelAxis: 0, reductionAxis: 1 };
      return undefined;
    }
    case 'MatMul':
      if (rank < 2) return undefined;
      if (operand === 1) return { channelAxis: rank - 1, reductionAxis: rank - 2 };
      if (operand === 0) return { channelAxis: rank - 2, reductionAxis: rank - 1 };
      return undefined;
    case 'Gather':
      return operand === 0 && rank === 2 && intAttribute(node, 'axis', 0) === 0 ? { channelAxis: 0, reductionAxis: 1 } : undefined;
    case 'LSTM':
    case 'GRU':
    case 'RNN':
      return (operand === 1 || operand === 2) && rank === 3 ? { channelAxis: 1, reductionAxis: 2 } : undefined;
    default:
      return undefined;
  }
}

const producerMaps = new WeakMap<GraphInfo, Map<string, NodeProto>>();

function producersOf(graph: GraphInfo): Map<string, NodeProto> {
  let m = producerMaps.get(graph);
  if (!m) {
    m = new Map();
    for (const n of graph.nodes) for (const o of n.node.output) if (o) m.set(o, n.node);
    producerMaps.set(graph, m);
  }
  return m;
}

/** The operand a stored tensor feeds through a chain of Cast/Identity nodes, and the last Cast's type. */
export function castOperand(layer: Layer, value: string): { operand: number; castTo?: number; casts?: NodeProto[] } | undefined {
  const node = layer.node.node;
  const direct = node.input.indexOf(value);
  if (direct >= 0) return { operand: direct };
  const producers = producersOf(layer.node.graph);
  for (let operand = 0; operand < node.input.length; operand++) {
    let name = node.input[operand];
    let castTo: number | undefined;
    const chain: NodeProto[] = [];
    for (let hops = 0; hops < 4; hops++) {
      const p = producers.get(name);
      const op = p?.opType;
      if (!p || ((p.domain ?? '') !== '' && p.domain !== 'ai.onnx') || (op !== 'Cast' && op !== 'Identity')) break;
      if (op === 'Cast') castTo ??= Number(p.attribute.find((a) => a.name === 'to')?.i ?? 0);
      chain.unshift(p);
      name = p.input[0];
      if (name === value) return { operand, castTo, casts: chain };
    }
  }
  return undefined;
}
