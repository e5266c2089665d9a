/**
 * Rebuilds a model with some TensorProtos replaced, copying only the path from the root to each
 * change: everything else stays the same (frozen, original-bytes) object and is saved verbatim.
 */
import type { AttributeProto, FunctionProto, GraphProto, ModelProto, NodeProto, SparseTensorProto, TensorProto } from './proto';

export type TensorMapper = (tensor: TensorProto) => TensorProto;

function mapList<T>(list: readonly T[], fn: (item: T) => T): readonly T[] {
  let out: T[] | undefined;
  list.forEach((item, i) => {
    const next = fn(item);
    if (next !== item) (out ??= list.slice())[i] = next;
  });
  return out ?? list;
}

function changed<T extends object>(original: T, updates: Partial<T>): T {
  for (const key of Object.keys(updates) as (keyof T)[]) {
    if (updates[key] !== original[key]) return { ...original, ...updates };
  }
  return original;
}

function mapSparse(s: SparseTensorProto, fn: TensorMapper): SparseTensorProto {
  return changed(s, { values: s.values && fn(s.values), indices: s.indices && fn(s.indices) });
}

function mapAttribute(a: AttributeProto, fn: TensorMapper): AttributeProto {
  return changed(a, {
    t: a.t && fn(a.t),
    g: a.g && mapGraph(a.g, fn),
    tensors: mapList(a.tensors, fn),
    graphs: mapList(a.graphs, (g) => mapGraph(g, fn)),
    sparseTensor: a.sparseTensor && mapSparse(a.sparseTensor, fn),
    sparseTensors: mapList(a.sparseTensors, (s) => mapSparse(s, fn)),
  });
}

function mapNode(n: NodeProto, fn: TensorMapper): NodeProto {
  return changed(n, { attribute: mapList(n.attribute, (a) => mapAttribute(a, fn)) });
}

export function mapGraph(g: GraphProto, fn: TensorMapper): GraphProto {
  return changed(g, {
    initializer: mapList(g.initializer, fn),
    sparseInitializer: mapList(g.sparseInitializer, (s) => mapSparse(s, fn)),
    node: mapList(g.node, (n) => mapNode(n, fn)),
  });
}

function mapFunction(f: FunctionProto, fn: TensorMapper): FunctionProto {
  return changed(f, { node: mapList(f.node, (n) => mapNode(n, fn)) });
}

/** Applies `fn` to every TensorProto in the model (initializers, Constant values, subgraphs, functions). */
export function mapTensors(model: ModelProto, fn: TensorMapper): ModelProto {
  return changed(model, {
    graph: model.graph && mapGraph(model.graph, fn),
    functions: mapList(model.functions, (f) => mapFunction(f, fn)),
    trainingInfo: mapList(model.trainingInfo, (t) =>
      changed(t, {
        initialization: t.initialization && mapGraph(t.initialization, fn),
        algorithm: t.algorithm && mapGraph(t.algorithm, fn),
      }),
    ),
  });
}
