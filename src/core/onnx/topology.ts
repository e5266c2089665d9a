/**
 * Graph order. Node lists are not always topologically sorted, and a node with subgraphs
 * (If/Loop/Scan) also depends on every outer value its subgraphs use: its implicit inputs.
 */
import type { GraphInfo, ModelIndex, NodeInfo } from './modelIndex';
import { MinHeap } from '../minHeap';

export interface Topology {
  /** Nodes of a graph in dependency order (ties keep file order; cycles fall back to file order). */
  order(graph: GraphInfo): readonly NodeInfo[];
  /** Subgraphs held by a node's attributes. */
  subgraphs(node: NodeInfo): readonly GraphInfo[];
}

/** One topology per index (an index never changes), shared by layer attribution and shape inference. */
const built = new WeakMap<ModelIndex, Topology>();

export function buildTopology(index: ModelIndex): Topology {
  let topology = built.get(index);
  if (!topology) built.set(index, (topology = computeTopology(index)));
  return topology;
}

function computeTopology(index: ModelIndex): Topology {
  const subgraphsOf = new Map<NodeInfo, GraphInfo[]>();
  for (const g of index.graphs) {
    if (g.owner) {
      const list = subgraphsOf.get(g.owner);
      if (list) list.push(g);
      else subgraphsOf.set(g.owner, [g]);
    }
  }
  const storedNames = new Map<GraphInfo, string[]>();
  for (const t of index.tensors) {
    if (!t.isValue) continue;
    const list = storedNames.get(t.graph);
    if (list) list.push(t.name);
    else storedNames.set(t.graph, [t.name]);
  }
  const freeVarCache = new Map<GraphInfo, Set<string>>();

  /** Names a graph uses but neither defines nor receives: what it takes from enclosing graphs. */
  const freeVars = (graph: GraphInfo): Set<string> => {
    const cached = freeVarCache.get(graph);
    if (cached) return cached;
    const defined = new Set<string>(graph.inputs);
    for (const name of storedNames.get(graph) ?? []) defined.add(name);
    for (const n of graph.nodes) for (const o of n.node.output) defined.add(o);
    const free = new Set<string>();
    for (const n of graph.nodes) {
      for (const i of n.node.input) if (i && !defined.has(i)) free.add(i);
      for (const sg of subgraphsOf.get(n) ?? []) for (const v of freeVars(sg)) if (!defined.has(v)) free.add(v);
    }
    freeVarCache.set(graph, free);
    return free;
  };

  const orderCache = new Map<GraphInfo, NodeInfo[]>();
  const order = (graph: GraphInfo): NodeInfo[] => {
    const cached = orderCache.get(graph);
    if (cached) return cached;
    const nodes = graph.nodes;
    const producer = new Map<string, number>();
    nodes.forEach((n, i) => n.node.output.forEach((o) => o && producer.set(o, i)));
    const dependents: number[][] = nodes.map(() => []);
    const waiting = new Int32Array(nodes.length);
    nodes.forEach((n, i) => {
      const deps = new Set<number>();
      const use = (name: string): void => {
        const p = producer.get(name);
        if (p !== undefined && p !== i) deps.add(p);
      };
      n.node.input.forEach(use);
      for (const sg of subgraphsOf.get(n) ?? []) freeVars(sg).forEach(use);
      for (const d of deps) dependents[d].push(i);
      waiting[i] = deps.size;
    });
    const ready = new MinHeap();
    waiting.forEach((w, i) => w === 0 && ready.push(i));
    const out: NodeInfo[] = [];
    const placed = new Uint8Array(nodes.length);
    while (ready.size > 0) {
      const i = ready.pop();
      out.push(nodes[i]);
      placed[i] = 1;
      for (const d of dependents[i]) if (--waiting[d] === 0) ready.push(d);
    }
    // A cycle (invalid, but seen in the wild): keep the rest in file order.
    if (out.length < nodes.length) nodes.forEach((n, i) => placed[i] || out.push(n));
    orderCache.set(graph, out);
    return out;
  };

  return { order, subgraphs: (node) => subgraphsOf.get(node) ?? [] };
}
