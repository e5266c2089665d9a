/**
 * A transform's output: what to change in which graph, as data. Graphs and nodes are named by
 * the message objects of the model the patch was computed from, so applying it copies only the
 * path to each change (everything else keeps its original bytes) and the model before the patch
 * stays intact: undo is going back to it.
 */
import type { AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto } from '../core/onnx/proto';

export interface GraphPatch {
  /** Node (the original object) → the nodes taking its place, in order; empty removes it. */
  readonly replaceNodes: Map<NodeProto, NodeProto[]>;
  /** Nodes placed before all others: dequantizers whose inputs are all stored tensors. */
  readonly prependNodes: NodeProto[];
  readonly removeInitializers: Set<string>;
  readonly addInitializers: TensorProto[];
  /** Initializers given new contents in place, by name. */
  readonly replaceInitializers: Map<string, TensorProto>;
  /** Graph inputs to drop: initializers that were also listed as inputs and are now computed. */
  readonly removeInputs: Set<string>;
  /** value_info entries to drop: values whose shape changed (onnxruntime infers them again). */
  readonly removeValueInfo: Set<string>;
  /** Replacement declarations of graph outputs, by name (their shape changed). */
  readonly replaceOutputs: Map<string, ValueInfoProto>;
}

export class ModelPatch {
  readonly graphs = new Map<GraphProto, GraphPatch>();
  /** Opset versions the patched model needs, by domain (raised, never lowered). */
  readonly opsets = new Map<string, number>();
  irVersion = 0;

  forGraph(g: GraphProto): GraphPatch {
    let p = this.graphs.get(g);
    if (!p) {
      p = {
        replaceNodes: new Map(),
        prependNodes: [],
        removeInitializers: new Set(),
        addInitializers: [],
        replaceInitializers: new Map(),
        removeInputs: new Set(),
        removeValueInfo: new Set(),
        replaceOutputs: new Map(),
      };
      this.graphs.set(g, p);
    }
    return p;
  }

  requireOpset(domain: string, version: number): void {
    this.opsets.set(domain, Math.max(this.opsets.get(domain) ?? 0, version));
  }

  get isEmpty(): boolean {
    return this.graphs.size === 0 && this.opsets.size === 0 && this.irVersion === 0;
  }
}

export function applyPatch(model: ModelProto, patch: ModelPatch): ModelProto {
  if (patch.isEmpty) return model;
  const graph = model.graph && patchGraph(model.graph, patch);
  let opsetImport = model.opsetImport;
  for (const [domain, version] of patch.opsets) {
    const at = opsetImport.findIndex((o) => (o.domain ?? '') === domain);
    if (at < 0) opsetImport = [...opsetImport, { domain, version }];
    else if (Number(opsetImport[at].version ?? 0) < version) {
      opsetImport = opsetImport.map((o, i) => (i === at ? { ...o, version } : o));
    }
  }
  const irVersion = Math.max(Number(model.irVersion ?? 0), patch.irVersion);
  if (graph === model.graph && opsetImport === model.opsetImport && irVersion === Number(model.irVersion ?? 0)) return model;
  return { ...model, graph, opsetImport, irVersion: irVersion === Number(model.irVersion ?? 0) ? model.irVersion : irVersion };
}

function patchGraph(g: GraphProto, patch: ModelPatch): GraphProto {
  const p = patch.graphs.get(g);
  let nodesChanged = false;
  const nodes: NodeProto[] = p ? [...p.prependNodes] : [];
  if (p && p.prependNodes.length) nodesChanged = true;
  for (const n of g.node) {
    const replacement = p?.replaceNodes.get(n);
    if (replacement) {
      nodes.push(...replacement);
      nodesChanged = true;
      continue;
    }
    const next = patchNodeSubgraphs(n, patch);
    if (next !== n) nodesChanged = true;
    nodes.push(next);
  }
  if (!p && !nodesChanged) return g;
  if (!p) return { ...g, node: nodes };
  const keep = (drop: Set<string>) => (v: ValueInfoProto): boolean => !drop.has(v.name ?? '');
  const initializer = g.initializer
    .filter((t) => !p.removeInitializers.has(t.name ?? ''))
    .map((t) => p.replaceInitializers.get(t.name ?? '') ?? t);
  return {
    ...g,
    node: nodesChanged ? nodes : g.node,
    initializer: [...initializer, ...p.addInitializers],
    input: p.removeInputs.size ? g.input.filter(keep(p.removeInputs)) : g.input,
    valueInfo: p.removeValueInfo.size ? g.valueInfo.filter(keep(p.removeValueInfo)) : g.valueInfo,
    output: p && p.replaceOutputs.size ? g.output.map((o) => p.replaceOutputs.get(o.name ?? '') ?? o) : g.output,
  };
}

function patchNodeSubgraphs(n: NodeProto, patch: ModelPatch): NodeProto {
  let attributes: AttributeProto[] | undefined;
  n.attribute.forEach((a, i) => {
    if (!a.g && a.graphs.length === 0) return;
    const g = a.g && patchGraph(a.g, patch);
    const graphs = a.graphs.map((sg) => patchGraph(sg, patch));
    if (g !== a.g || graphs.some((sg, j) => sg !== a.graphs[j])) {
      (attributes ??= [...n.attribute])[i] = { ...a, g, graphs };
    }
  });
  return attributes ? { ...n, attribute: attributes } : n;
}
