/**
 * The element type of a value, where a rewrite needs it (a Clip bound must have its input's
 * type: FLOAT16 in a half-precision model). Read from declarations and stored tensors, else
 * from the producer: a Cast's target, or the type of its first input (elementwise ops and
 * most others keep it). FLOAT when nothing says otherwise.
 */
import { DataType } from '../core/onnx/dataTypes';
import type { GraphInfo, ModelIndex, NodeInfo } from '../core/onnx/modelIndex';

export type ElemTypeOf = (name: string, graph: GraphInfo) => number;

export function elemTypes(index: ModelIndex): ElemTypeOf {
  const known = new Map<GraphInfo, Map<string, number>>();
  const producers = new Map<GraphInfo, Map<string, NodeInfo>>();
  for (const g of index.graphs) {
    const m = new Map<string, number>();
    for (const v of g.declared) {
      const t = v.type?.tensorType?.elemType;
      if (v.name && t) m.set(v.name, t);
    }
    known.set(g, m);
    const p = new Map<string, NodeInfo>();
    for (const n of g.nodes) for (const o of n.node.output) if (o) p.set(o, n);
    producers.set(g, p);
  }
  for (const t of index.tensors) if (t.isValue) known.get(t.graph)?.set(t.name, t.dataType);

  const typeOf = (name: string, graph: GraphInfo, depth: number): number | undefined => {
    for (let g: GraphInfo | undefined = graph; g; g = g.parent) {
      const t = known.get(g)?.get(name);
      if (t) return t;
      const p = producers.get(g)?.get(name);
      if (!p) continue;
      const n = p.node;
      if (n.opType === 'Cast') return Number(n.attribute.find((a) => a.name === 'to')?.i ?? 0) || undefined;
      if (n.opType === 'DequantizeLinear' && n.input[1]) return typeOf(n.input[1], g, depth + 1);
      if (depth > 500 || !n.input[0]) return undefined;
      return typeOf(n.input[0], g, depth + 1);
    }
    return undefined;
  };
  return (name, graph) => typeOf(name, graph, 0) ?? DataType.Float;
}
