/**
 * Already-quantized weights a transform can quantize again: integer codes feeding a
 * DequantizeLinear, or indices into a codebook (Cast → Gather, as our clustering writes). Their
 * real values are a graph value; re-quantizing replaces the chain that makes it (transforms/
 * realWeight.ts). Found here, where the size estimates also need them. Integer ops (ConvInteger,
 * QLinearConv, MatMulNBits) hold no such value and are left to the float model.
 */
import type { GraphInfo, StoredTensor } from '../core/onnx/modelIndex';
import type { NodeProto } from '../core/onnx/proto';
import { isFloatSource, type FloatSource } from '../core/onnx/dataTypes';
import type { Layer } from './layers';
import { storedAs } from './storedAs';

export interface RealWeightChain {
  /** The value name that carries the real weight. */
  readonly value: string;
  /** The nodes from the stored tensors to `value`, in order. */
  readonly nodes: readonly NodeProto[];
  /** Codes (or indices) first, then scale, zero point or codebook. */
  readonly stored: readonly StoredTensor[];
  /** The type of the real values: the scale's or the codebook's. */
  readonly valueType: FloatSource;
  /** How it is stored, in the table's words ("INT8 per-channel", "16 clusters"). */
  readonly label: string;
}

const consumerMaps = new WeakMap<GraphInfo, Map<string, NodeProto[]>>();

export function consumersOf(graph: GraphInfo): Map<string, NodeProto[]> {
  let m = consumerMaps.get(graph);
  if (!m) {
    m = new Map();
    for (const n of graph.nodes) {
      for (const i of n.node.input) {
        if (!i) continue;
        const list = m.get(i);
        if (list) list.push(n.node);
        else m.set(i, [n.node]);
      }
    }
    consumerMaps.set(graph, m);
  }
  return m;
}

const isDefault = (n: NodeProto): boolean => (n.domain ?? '') === '' || n.domain === 'ai.onnx';

/** The chain making `codes`' real values in `layer`, when it is one a transform can replace. */
export function realWeightChain(layer: Layer, codes: StoredTensor): RealWeightChain | undefined {
  const d = layer.dequantized?.get(codes);
  // A masked weight is no chain to replace: the transforms read it dense (maskedView.ts).
  if (!d || d.kind === 'nbits' || d.kind === 'masked' || !codes.isValue) return undefined;
  const users = consumersOf(codes.graph).get(codes.name) ?? [];
  if (users.length !== 1 || !isDefault(users[0])) return undefined;
  const label = storedAs(layer).label;
  if (d.kind === 'linear') {
    const dq = users[0];
    if (d.op !== 'DequantizeLinear' || dq.opType !== 'DequantizeLinear' || dq.input[0] !== codes.name) return undefined;
    if (!isFloatSource(d.scale.dataType)) return undefined;
    const stored = [codes, d.scale, ...(d.zeroPoint ? [d.zeroPoint] : [])];
    return { value: dq.output[0], nodes: [dq], stored, valueType: d.scale.dataType, label };
  }
  // Indices → (Cast →) Gather(codebook, indices).
  if (!isFloatSource(d.codebook.dataType)) return undefined;
  let first = users[0];
  const nodes: NodeProto[] = [];
  if (first.opType === 'Cast') {
    nodes.push(first);
    const next = consumersOf(codes.graph).get(first.output[0]) ?? [];
    if (next.length !== 1) return undefined;
    first = next[0];
  }
  if (first.opType !== 'Gather' || !isDefault(first) || first.input[0] !== d.codebook.name) return undefined;
  nodes.push(first);
  return { value: first.output[0], nodes, stored: [codes, d.codebook], valueType: d.codebook.dataType, label };
}

/** Bytes the chain stores (codes and parameters). */
export function chainBytes(chain: RealWeightChain): number {
  return chain.stored.reduce((n, t) => n + t.bytes, 0);
}
