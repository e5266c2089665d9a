/**
 * The index of a decoded model: every graph (main, subgraphs of If/Loop/Scan, model-local
 * functions, training graphs), every node, and every stored tensor as a validated reference.
 * Nothing here reads or copies tensor values.
 */
import { OnnxError } from '../errors';
import { DataType } from './dataTypes';
import { describeSparseTensor, describeTensor, type TensorContext, type TensorInfo } from './tensor';
import type { AttributeProto, GraphProto, ModelProto, NodeProto, SparseTensorProto, TensorProto, ValueInfoProto } from './proto';

export type GraphKind = 'main' | 'subgraph' | 'function' | 'training';

export interface GraphInfo {
  /** Readable path: `main`, `main/If_3.then_branch`, `function:custom.Fn`. */
  readonly path: string;
  readonly kind: GraphKind;
  readonly parent?: GraphInfo;
  /** The node whose attribute holds this graph (subgraphs only). */
  readonly owner?: NodeInfo;
  readonly nodes: readonly NodeInfo[];
  /** Names this graph receives from outside (graph inputs, function inputs). */
  readonly inputs: readonly string[];
  /** Declared types and shapes: graph inputs, outputs and value_info (none for functions). */
  readonly declared: readonly ValueInfoProto[];
  /** The graph message itself (none for functions), the key transforms patch it by. */
  readonly proto?: GraphProto;
}

export interface NodeInfo {
  readonly id: number;
  readonly node: NodeProto;
  readonly graph: GraphInfo;
  /** Position in its graph's node list (which need not be topologically sorted). */
  readonly index: number;
  /** The node's name, or `<OpType>_<index>` in its graph when it has none. */
  readonly label: string;
  /** Where it sits in the protobuf, for error messages. */
  readonly where: string;
}

export type TensorOrigin = 'initializer' | 'sparse-initializer' | 'constant' | 'attribute';

export interface StoredTensor extends TensorInfo {
  readonly id: number;
  /** The value name it defines (initializers, Constant outputs) or a synthesized name. */
  readonly name: string;
  readonly origin: TensorOrigin;
  readonly graph: GraphInfo;
  /** The Constant node defining it, or the node whose attribute holds it. */
  readonly node?: NodeInfo;
  /** Whether graph nodes can refer to it by `name` (false for non-Constant attribute tensors). */
  readonly isValue: boolean;
  readonly where: string;
  readonly proto: TensorProto | SparseTensorProto | AttributeProto;
}

export interface ModelIndex {
  readonly graphs: readonly GraphInfo[];
  readonly nodes: readonly NodeInfo[];
  readonly tensors: readonly StoredTensor[];
}

export interface IndexLimits {
  /** Most graphs (main + subgraphs + functions) accepted. */
  readonly maxGraphs: number;
}

interface MutableGraph extends GraphInfo {
  nodes: NodeInfo[];
}

export function indexModel(model: ModelProto, ctx: TensorContext, limits: IndexLimits = { maxGraphs: 100_000 }): ModelIndex {
  const graphs: GraphInfo[] = [];
  const nodes: NodeInfo[] = [];
  const tensors: StoredTensor[] = [];

  // Built field by field: object spread is remarkably slow in V8 for this many objects.
  const addTensor = (
    info: TensorInfo,
    name: string,
    origin: TensorOrigin,
    graph: GraphInfo,
    node: NodeInfo | undefined,
    isValue: boolean,
    where: string,
    proto: StoredTensor['proto'],
  ): void => {
    tensors.push({
      id: tensors.length,
      dataType: info.dataType,
      dims: info.dims,
      elements: info.elements,
      bytes: info.bytes,
      storage: info.storage,
      name,
      origin,
      graph,
      node,
      isValue,
      where,
      proto,
    });
  };

  const newGraph = (g: Omit<MutableGraph, 'nodes'>): MutableGraph => {
    if (graphs.length >= limits.maxGraphs) throw new OnnxError('limit', `more than ${limits.maxGraphs} graphs`, g.path);
    const info: MutableGraph = { ...g, nodes: [] };
    graphs.push(info);
    return info;
  };

  const walkNodes = (list: readonly NodeProto[], graph: MutableGraph, where: string): void => {
    list.forEach((node, index) => {
      const op = node.opType ?? '?';
      const info: NodeInfo = {
        id: nodes.length,
        node,
        graph,
        index,
        label: node.name ? node.name : `${op}_${index}`,
        where: `${where}.node[${index}]`,
      };
      nodes.push(info);
      graph.nodes.push(info);
      walkAttributes(info);
    });
  };

  const walkGraph = (g: GraphProto, path: string, kind: GraphKind, where: string, parent?: GraphInfo, owner?: NodeInfo): void => {
    const graph = newGraph({ path, kind, parent, owner, proto: g, inputs: g.input.map((v) => v.name ?? ''), declared: [...g.input, ...g.output, ...g.valueInfo] });
    g.initializer.forEach((t, i) => {
      const w = `${where}.initializer[${i}]${t.name ? ` '${t.name}'` : ''}`;
      addTensor(describeTensor(t, w, ctx), t.name ?? '', 'initializer', graph, undefined, true, w, t);
    });
    g.sparseInitializer.forEach((s, i) => {
      const name = s.values?.name ?? '';
      const w = `${where}.sparse_initializer[${i}]${name ? ` '${name}'` : ''}`;
      addTensor(describeSparseTensor(s, w, ctx), name, 'sparse-initializer', graph, undefined, true, w, s);
    });
    walkNodes(g.node, graph, where);
  };

  const walkAttributes = (info: NodeInfo): void => {
    const { node } = info;
    const attributes = node.attribute;
    if (attributes.length === 0) return;
    const isConstant = node.opType === 'Constant' && (node.domain ?? '') === '';
    for (let ai = 0; ai < attributes.length; ai++) {
      const a = attributes[ai];
      // Most attributes are small ints and floats: look for tensors and graphs before building names.
      const holdsData = a.t || a.g || a.sparseTensor || a.tensors.length || a.graphs.length || a.sparseTensors.length;
      if (!isConstant && !holdsData) continue;
      const aw = `${info.where}.attribute[${ai}] '${a.name ?? ''}'`;
      if (isConstant) {
        const value = constantValue(a, aw);
        if (value) {
          addTensor(value, node.output[0] ?? info.label, 'constant', info.graph, info, true, aw, a);
        }
        continue;
      }
      const attrName = `${info.label}.${a.name}`;
      const attrTensor = (t: TensorProto, w: string): void =>
        addTensor(describeTensor(t, w, ctx), t.name || attrName, 'attribute', info.graph, info, false, w, t);
      const attrSparse = (sp: SparseTensorProto, w: string): void =>
        addTensor(describeSparseTensor(sp, w, ctx), attrName, 'attribute', info.graph, info, false, w, sp);
      if (a.t) attrTensor(a.t, `${aw}.t`);
      a.tensors.forEach((t, i) => attrTensor(t, `${aw}.tensors[${i}]`));
      if (a.sparseTensor) attrSparse(a.sparseTensor, `${aw}.sparse_tensor`);
      a.sparseTensors.forEach((sp, i) => attrSparse(sp, `${aw}.sparse_tensors[${i}]`));
      const sub = `${info.graph.path === 'main' ? '' : info.graph.path + '/'}${attrName}`;
      if (a.g) walkGraph(a.g, sub, 'subgraph', `${aw}.g`, info.graph, info);
      a.graphs.forEach((g, i) => walkGraph(g, `${sub}[${i}]`, 'subgraph', `${aw}.graphs[${i}]`, info.graph, info));
    }
  };

  const constantValue = (a: AttributeProto, where: string): TensorInfo | undefined => {
    switch (a.name) {
      case 'value':
        if (!a.t) throw new OnnxError('corrupt', 'Constant value attribute has no tensor', where);
        return describeTensor(a.t, `${where}.t`, ctx);
      case 'sparse_value':
        if (!a.sparseTensor) throw new OnnxError('corrupt', 'Constant sparse_value attribute has no sparse tensor', where);
        return describeSparseTensor(a.sparseTensor, `${where}.sparse_tensor`, ctx);
      case 'value_float':
        return scalarList(DataType.Float, [a.f ?? 0], [], 4);
      case 'value_floats':
        return scalarList(DataType.Float, a.floats, [a.floats.length], 4);
      case 'value_int':
        return scalarList(DataType.Int64, [a.i ?? 0], [], 8);
      case 'value_ints':
        return scalarList(DataType.Int64, a.ints, [a.ints.length], 8);
      case 'value_string':
        return { dataType: DataType.String, dims: [], elements: 1, bytes: a.s?.length ?? 0, storage: { kind: 'strings', values: a.s ? [a.s] : [] } };
      case 'value_strings':
        return {
          dataType: DataType.String,
          dims: [a.strings.length],
          elements: a.strings.length,
          bytes: a.strings.reduce((n, s) => n + s.length, 0),
          storage: { kind: 'strings', values: a.strings },
        };
      default:
        return undefined;
    }
  };

  if (!model.graph) throw new OnnxError('not-onnx', 'the model has no graph');
  walkGraph(model.graph, 'main', 'main', 'graph');
  model.functions.forEach((f, i) => {
    const path = `function:${f.domain ? f.domain + '.' : ''}${f.name ?? i}`;
    const graph = newGraph({ path, kind: 'function', inputs: f.input, declared: f.valueInfo });
    walkNodes(f.node, graph, `functions[${i}]`);
  });
  model.trainingInfo.forEach((t, i) => {
    if (t.initialization) walkGraph(t.initialization, `training[${i}].initialization`, 'training', `training_info[${i}].initialization`);
    if (t.algorithm) walkGraph(t.algorithm, `training[${i}].algorithm`, 'training', `training_info[${i}].algorithm`);
  });
  return { graphs, nodes, tensors };
}

function scalarList(dataType: number, values: readonly (number | bigint)[], dims: number[], width: number): TensorInfo {
  return { dataType, dims, elements: values.length, bytes: values.length * width, storage: { kind: 'values', values } };
}
