/**
 * Static shape inference for the ops that matter for MACs, over one graph (and subgraphs, which
 * see their outer graph's shapes). Shapes come from graph inputs (symbolic dims resolved only from
 * user-supplied values: nothing is guessed), value_info, stored tensors and constant values; an
 * unknown dim is `undefined`, and everything computed from it stays unknown.
 */
import { DataType } from '../core/onnx/dataTypes';
import type { GraphInfo, ModelIndex, NodeInfo, StoredTensor } from '../core/onnx/modelIndex';
import type { ValueInfoProto } from '../core/onnx/proto';
import { buildTopology } from '../core/onnx/topology';
import { widenToFloat32 } from '../core/onnx/widen';
import { readRawBytesSync } from '../core/onnx/tensorData';
import { attrInt, attrInts, attrString, propagateValue, rangeLength } from './shapeValues';
import { MS_DOMAIN } from './quantizedOps';

/** A dim is a number when known. */
export type Dim = number | undefined;
export type Shape = readonly Dim[];

export interface ShapeInference {
  /** The shape of a value as seen from a graph (looking through enclosing graphs). */
  shapeOf(name: string, graph: GraphInfo): Shape | undefined;
  /** Small INT64 constants (shapes, axes) known by value. */
  valueOf(name: string, graph: GraphInfo): readonly number[] | undefined;
}

const ELEMENTWISE = new Set([
  'Relu', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish', 'LeakyRelu', 'Clip', 'Erf', 'Gelu', 'Exp', 'Log', 'Sqrt', 'Neg',
  'Abs', 'Cast', 'CastLike', 'Identity', 'Dropout', 'Softmax', 'LogSoftmax', 'BatchNormalization', 'InstanceNormalization',
  'LayerNormalization', 'GroupNormalization', 'QuantizeLinear', 'DequantizeLinear', 'Mish', 'Softplus', 'Softsign', 'Elu',
  'Selu', 'Celu', 'PRelu', 'Not', 'Floor', 'Ceil', 'Round', 'Sign', 'Reciprocal', 'ThresholdedRelu', 'Sin', 'Cos', 'LRN',
  'IsNaN', 'IsInf', 'HardMax', 'Hardmax', 'Shrink', 'BitShift',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Where', 'And', 'Or', 'Xor', 'Mod', 'PRelu']);
const REDUCE = new Set(['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare']);

function typeShape(v: ValueInfoProto, dims: ReadonlyMap<string, number>): Shape | undefined {
  const t = v.type?.tensorType;
  if (!t?.shape) return undefined;
  return t.shape.dim.map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : d.dimParam ? dims.get(d.dimParam) : undefined));
}

const known = (s: Shape | undefined): s is readonly number[] => !!s && s.every((d) => d !== undefined);

export function broadcastShapes(shapes: (Shape | undefined)[]): Shape | undefined {
  if (shapes.some((s) => !s)) return undefined;
  const rank = Math.max(...shapes.map((s) => s!.length));
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim = 1;
    for (const s of shapes) {
      const d = s![s!.length - rank + i];
      if (d === undefined && s!.length - rank + i >= 0) {
        dim = dim === 1 ? undefined : dim;
        continue;
      }
      if (d === undefined || d === 1) continue;
      dim = d;
    }
    out.push(dim);
  }
  return out;
}

/**
 * Constant folding of the small integer computations exporters use to build shapes at run time
 * (Shape → Gather → Unsqueeze → Concat → Reshape, with some arithmetic): values of 1-D or scalar
 * INT tensors, by name.
 */
/** Output spatial size of a convolution or pooling window along one axis. */
function windowOut(input: Dim, kernel: number, stride: number, dilation: number, padBegin: number, padEnd: number, autoPad: string | undefined, ceilMode: boolean): Dim {
  if (input === undefined) return undefined;
  const effective = dilation * (kernel - 1) + 1;
  if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') return Math.ceil(input / stride);
  if (autoPad === 'VALID') return Math.floor((input - effective) / stride) + 1;
  const span = input + padBegin + padEnd - effective;
  return (ceilMode ? Math.ceil(span / stride) : Math.floor(span / stride)) + 1;
}

/** What the user says about the inputs: values of symbolic dims, and whole shapes of named inputs. */
export interface UserShapes {
  readonly dims?: ReadonlyMap<string, number>;
  /** Shapes of main-graph inputs by name; they win over the declared shape (anonymous dims included). */
  readonly inputs?: ReadonlyMap<string, readonly number[]>;
}

export function inferShapes(index: ModelIndex, user: UserShapes = {}): ShapeInference {
  const userDims = user.dims ?? new Map<string, number>();
  const topology = buildTopology(index);
  const shapes = new Map<GraphInfo, Map<string, Shape>>();
  const values = new Map<GraphInfo, Map<string, readonly number[]>>();
  const tensorsByGraph = new Map<GraphInfo, StoredTensor[]>();
  for (const t of index.tensors) {
    if (!t.isValue) continue;
    const list = tensorsByGraph.get(t.graph);
    if (list) list.push(t);
    else tensorsByGraph.set(t.graph, [t]);
  }

  const lookup = <T>(maps: Map<GraphInfo, Map<string, T>>, name: string, graph: GraphInfo): T | undefined => {
    for (let g: GraphInfo | undefined = graph; g; g = g.parent) {
      const v = maps.get(g)?.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const shapeOf = (name: string, graph: GraphInfo): Shape | undefined => lookup(shapes, name, graph);
  const valueOf = (name: string, graph: GraphInfo): readonly number[] | undefined => lookup(values, name, graph);

  const visit = (graph: GraphInfo): void => {
    const local = new Map<string, Shape>();
    const localValues = new Map<string, readonly number[]>();
    shapes.set(graph, local);
    values.set(graph, localValues);
    for (const v of graph.declared) {
      const s = v.name ? typeShape(v, userDims) : undefined;
      if (s && v.name) local.set(v.name, s);
    }
    if (graph.kind === 'main') for (const [name, shape] of user.inputs ?? []) local.set(name, shape);
    for (const t of tensorsByGraph.get(graph) ?? []) {
      local.set(t.name, t.dims);
      if ((t.dataType === DataType.Int64 || t.dataType === DataType.Int32) && t.elements <= 64 && t.storage.kind !== 'external' && t.storage.kind !== 'sparse') {
        const raw = readRawBytesSync(t);
        if (raw) localValues.set(t.name, Array.from(widenToFloat32(t.dataType, raw, 0, t.elements)));
      }
    }
    for (const info of topology.order(graph)) {
      inferNode(info, graph, local, localValues);
      const branches = topology.subgraphs(info);
      for (const sg of branches) visit(sg);
      if (info.node.opType === 'If') ifOutputs(info, branches, local);
    }
  };

  // What inference found for a value: a declared shape wins, but its symbolic dims ('batch', 'seq') take it.
  const learn = (local: Map<string, Shape>, name: string, s: Shape): void => {
    const declared = local.get(name);
    if (!declared) local.set(name, s);
    else if (declared.length === s.length && declared.includes(undefined)) local.set(name, declared.map((d, k) => d ?? s[k]));
  };

  // An If's outputs: the branches' outputs, where both give the same shape (dims they disagree on unknown).
  const ifOutputs = (info: NodeInfo, branches: readonly GraphInfo[], local: Map<string, Shape>): void => {
    if (branches.length !== 2) return;
    const outs = branches.map((b) => b.proto?.output.map((o) => (o.name ? shapeOf(o.name, b) : undefined)) ?? []);
    info.node.output.forEach((name, i) => {
      const [a, b] = [outs[0][i], outs[1][i]];
      if (name && a && b && a.length === b.length) learn(local, name, a.map((d, k) => (d === b[k] ? d : undefined)));
    });
  };

  const inferNode = (n: NodeInfo, graph: GraphInfo, local: Map<string, Shape>, localValues: Map<string, readonly number[]>): void => {
    const node = n.node;
    const op = node.opType ?? '';
    const domain = node.domain ?? '';
    if (domain !== '' && domain !== 'ai.onnx' && domain !== MS_DOMAIN) return;
    const input = (i: number): Shape | undefined => (node.input[i] ? shapeOf(node.input[i], graph) : undefined);
    const value = (i: number): readonly number[] | undefined => (node.input[i] ? valueOf(node.input[i], graph) : undefined);
    const set = (i: number, s: Shape | undefined): void => {
      const name = node.output[i];
      if (name && s) learn(local, name, s);
    };
    const x = input(0);
    const setValue = (name: string, v: readonly number[]): void => {
      if (name && !localValues.has(name)) localValues.set(name, v);
    };
    if (domain === MS_DOMAIN) return set(0, inferMicrosoft(op, n, input));
    propagateValue(op, n, value, setValue);

    if (ELEMENTWISE.has(op) && !BROADCAST.has(op)) return set(0, x);
    if (BROADCAST.has(op)) return set(0, broadcastShapes(node.input.filter(Boolean).map((_, i) => input(i))));
    switch (op) {
      case 'Conv':
      case 'ConvInteger':
      case 'QLinearConv':
      case 'MaxPool':
      case 'AveragePool':
      case 'LpPool': {
        const isConv = op !== 'MaxPool' && op !== 'AveragePool' && op !== 'LpPool';
        const w = isConv ? input(op === 'QLinearConv' ? 3 : 1) : undefined;
        const xs = op === 'QLinearConv' ? input(0) : x;
        if (!xs || (isConv && !w)) return;
        const spatial = xs.length - 2;
        const kernel = attrInts(n, 'kernel_shape') ?? (w ? (w.slice(2) as Dim[]) : undefined);
        if (!kernel || kernel.some((k) => k === undefined)) return;
        const strides = attrInts(n, 'strides') ?? new Array(spatial).fill(1);
        const dilations = attrInts(n, 'dilations') ?? new Array(spatial).fill(1);
        const pads = attrInts(n, 'pads') ?? new Array(2 * spatial).fill(0);
        const autoPad = attrString(n, 'auto_pad');
        const ceil = attrInt(n, 'ceil_mode', 0) === 1;
        const out: Dim[] = [xs[0], isConv ? w![0] : xs[1]];
        for (let i = 0; i < spatial; i++) out.push(windowOut(xs[2 + i], kernel[i] as number, strides[i], dilations[i], pads[i], pads[i + spatial], autoPad, ceil));
        return set(0, out);
      }
      case 'ConvTranspose': {
        const w = input(1);
        if (!x || !w) return;
        const spatial = x.length - 2;
        const group = attrInt(n, 'group', 1);
        const explicit = attrInts(n, 'output_shape');
        const kernel = attrInts(n, 'kernel_shape') ?? (w.slice(2) as Dim[]);
        const strides = attrInts(n, 'strides') ?? new Array(spatial).fill(1);
        const dilations = attrInts(n, 'dilations') ?? new Array(spatial).fill(1);
        const pads = attrInts(n, 'pads') ?? new Array(2 * spatial).fill(0);
        const outputPadding = attrInts(n, 'output_padding') ?? new Array(spatial).fill(0);
        const out: Dim[] = [x[0], w[1] === undefined ? undefined : w[1] * group];
        for (let i = 0; i < spatial; i++) {
          const xi = x[2 + i];
          const k = kernel[i];
          if (explicit) out.push(explicit[explicit.length - spatial + i]);
          else out.push(xi === undefined || k === undefined ? undefined : strides[i] * (xi - 1) + outputPadding[i] + (k - 1) * dilations[i] + 1 - pads[i] - pads[i + spatial]);
        }
        return set(0, out);
      }
      case 'GlobalAveragePool':
      case 'GlobalMaxPool':
      case 'GlobalLpPool':
        return set(0, x && [x[0], x[1], ...x.slice(2).map(() => 1)]);
      case 'Gemm': {
        const b = input(1);
        if (!x || !b || x.length !== 2 || b.length !== 2) return;
        const m = attrInt(n, 'transA', 0) ? x[1] : x[0];
        const nn = attrInt(n, 'transB', 0) ? b[0] : b[1];
        return set(0, [m, nn]);
      }
      case 'MatMul':
      case 'MatMulInteger':
      case 'QLinearMatMul': {
        const a = op === 'QLinearMatMul' ? input(0) : x;
        const b = op === 'QLinearMatMul' ? input(3) : input(1);
        if (!a || !b) return;
        const a2 = a.length === 1 ? [1, a[0]] : a;
        const b2 = b.length === 1 ? [b[0], 1] : b;
        const batch = broadcastShapes([a2.slice(0, -2), b2.slice(0, -2)]);
        if (!batch) return;
        const out: Dim[] = [...batch];
        if (a.length > 1) out.push(a2[a2.length - 2]);
        if (b.length > 1) out.push(b2[b2.length - 1]);
        return set(0, out);
      }
      case 'Flatten': {
        if (!x) return;
        let axis = attrInt(n, 'axis', 1);
        if (axis < 0) axis += x.length;
        const prod = (ds: Shape): Dim => ds.reduce<Dim>((p, d) => (p === undefined || d === undefined ? undefined : p * d), 1);
        return set(0, [prod(x.slice(0, axis)), prod(x.slice(axis))]);
      }
      case 'Reshape': {
        const target = value(1);
        if (!target) return;
        const out: Dim[] = target.map((d, i) => (d === 0 && attrInt(n, 'allowzero', 0) === 0 ? x?.[i] : d === -1 ? undefined : d));
        const minus = target.indexOf(-1);
        if (minus >= 0 && known(x)) {
          const total = x.reduce((p, d) => p * d, 1);
          const rest = out.reduce<Dim>((p, d, i) => (i === minus ? p : p === undefined || d === undefined ? undefined : p * d), 1);
          if (rest) out[minus] = total / rest;
        }
        return set(0, out);
      }
      case 'Transpose': {
        if (!x) return;
        const perm = attrInts(n, 'perm') ?? x.map((_, i) => x.length - 1 - i);
        return set(0, perm.map((p) => x[p]));
      }
      case 'Concat': {
        const parts = node.input.filter(Boolean).map((_, i) => input(i));
        if (parts.some((p) => !p)) return;
        const rank = parts[0]!.length;
        const axis = (attrInt(n, 'axis', 0) + rank) % rank;
        const out: Dim[] = [...parts[0]!];
        out[axis] = parts.reduce<Dim>((s, p) => (s === undefined || p![axis] === undefined ? undefined : s + p![axis]!), 0);
        return set(0, out);
      }
      case 'Unsqueeze':
      case 'Squeeze': {
        if (!x) return;
        const axesIn = attrInts(n, 'axes') ?? value(1);
        if (op === 'Squeeze' && !axesIn) return set(0, x.every((d) => d !== undefined) ? x.filter((d) => d !== 1) : undefined);
        if (!axesIn) return;
        if (op === 'Squeeze') {
          const axes = axesIn.map((a) => (a + x.length) % x.length);
          return set(0, x.filter((_, i) => !axes.includes(i)));
        }
        const rank = x.length + axesIn.length;
        const axes = axesIn.map((a) => (a + rank) % rank);
        const out: Dim[] = [];
        let j = 0;
        for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : x[j++]);
        return set(0, out);
      }
      case 'Slice': {
        if (!x) return;
        const attrList = (name: string): number[] | undefined => {
          const a = node.attribute.find((v) => v.name === name);
          return a ? a.ints.map(Number) : undefined;
        };
        const legacy = attrList('starts') !== undefined;
        const starts = legacy ? attrList('starts') : value(1);
        const ends = legacy ? attrList('ends') : value(2);
        if (!starts || !ends) return;
        const axes = (legacy ? attrList('axes') : node.input[3] ? value(3) : undefined) ?? starts.map((_, j) => j);
        const steps = (legacy ? undefined : node.input[4] ? value(4) : undefined) ?? starts.map(() => 1);
        const out: Dim[] = [...x];
        axes.forEach((axisIn, j) => {
          const axis = axisIn < 0 ? axisIn + x.length : axisIn;
          const d = x[axis];
          if (d === undefined) return void (out[axis] = undefined);
          const step = steps[j];
          const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
          out[axis] =
            step > 0
              ? Math.max(0, Math.ceil((clamp(ends[j], 0, d) - clamp(starts[j], 0, d)) / step))
              : Math.max(0, Math.ceil((clamp(starts[j], -1, d - 1) - clamp(ends[j], -1, d - 1)) / -step));
        });
        return set(0, out);
      }
      case 'Pad': {
        if (!x) return;
        const padsAttr = node.attribute.find((v) => v.name === 'pads');
        const pads = padsAttr ? padsAttr.ints.map(Number) : value(1);
        if (!pads || pads.length !== 2 * x.length) return;
        return set(0, x.map((d, i) => (d === undefined ? undefined : d + pads[i] + pads[i + x.length])));
      }
      case 'Split': {
        if (!x) return;
        const axis = (attrInt(n, 'axis', 0) + x.length) % x.length;
        const splitAttr = node.attribute.find((v) => v.name === 'split');
        const sizes = splitAttr ? splitAttr.ints.map(Number) : node.input[1] ? value(1) : undefined;
        const d = x[axis];
        const parts = sizes ?? (d === undefined ? undefined : new Array(node.output.length).fill(d / node.output.length));
        parts?.forEach((size, i) => set(i, x.map((dim, k) => (k === axis ? (Number.isInteger(size) ? size : undefined) : dim))));
        return;
      }
      case 'LSTM':
      case 'GRU':
      case 'RNN': {
        if (!x || x.length !== 3) return;
        const hidden = attrInt(n, 'hidden_size', 0) || undefined;
        const dirs = attrString(n, 'direction') === 'bidirectional' ? 2 : 1;
        const batchFirst = attrInt(n, 'layout', 0) === 1;
        const [seq, batch] = batchFirst ? [x[1], x[0]] : [x[0], x[1]];
        set(0, batchFirst ? [batch, seq, dirs, hidden] : [seq, dirs, batch, hidden]);
        set(1, batchFirst ? [batch, dirs, hidden] : [dirs, batch, hidden]);
        if (op === 'LSTM') set(2, batchFirst ? [batch, dirs, hidden] : [dirs, batch, hidden]);
        return;
      }
      case 'Shape': {
        if (!x) return;
        // Shape(start, end) (opset 15) takes a slice of the dims.
        const rank = x.length;
        const clampAxis = (a: number): number => Math.min(Math.max(a < 0 ? a + rank : a, 0), rank);
        const start = clampAxis(attrInt(n, 'start', 0));
        const end = clampAxis(attrInt(n, 'end', rank));
        const dims = x.slice(start, Math.max(start, end));
        set(0, [dims.length]);
        if (known(dims)) setValue(node.output[0], dims);
        return;
      }
      case 'ConstantOfShape':
        return set(0, value(0));
      case 'Range':
        return set(0, [rangeLength(value(0), value(1), value(2))]);
      case 'Gather': {
        const idx = input(1);
        const data = value(0);
        const indices = value(1);
        if (data && indices && x?.length === 1 && attrInt(n, 'axis', 0) === 0) {
          const picked = indices.map((i) => data[i < 0 ? i + data.length : i]);
          if (picked.every((v) => v !== undefined)) setValue(node.output[0], picked);
        }
        if (!x || !idx) return;
        const axis = (attrInt(n, 'axis', 0) + x.length) % x.length;
        return set(0, [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)]);
      }
      case 'Resize':
      case 'Upsample': {
        if (!x) return;
        const sizes = op === 'Resize' ? value(3) : undefined;
        const scales = op === 'Resize' ? (node.input[2] ? valueOfFloat(node.input[2], graph) : undefined) : valueOfFloat(node.input[1], graph);
        if (sizes && sizes.length === x.length) return set(0, sizes);
        if (scales && scales.length === x.length) return set(0, x.map((d, i) => (d === undefined ? undefined : Math.floor(d * scales[i]))));
        return;
      }
      default:
        if (REDUCE.has(op)) {
          if (!x) return;
          const axes = attrInts(n, 'axes') ?? value(1);
          const keep = attrInt(n, 'keepdims', 1) === 1;
          if (!axes) return set(0, keep ? x.map(() => 1) : []);
          const norm = axes.map((a) => (a + x.length) % x.length);
          return set(0, keep ? x.map((d, i) => (norm.includes(i) ? 1 : d)) : x.filter((_, i) => !norm.includes(i)));
        }
    }
  };

  // Float constants (Resize/Upsample scales) are read on demand.
  const floatConstants = new Map<string, readonly number[] | null>();
  const valueOfFloat = (name: string, graph: GraphInfo): readonly number[] | undefined => {
    for (let g: GraphInfo | undefined = graph; g; g = g.parent) {
      const t = tensorsByGraph.get(g)?.find((x) => x.name === name);
      if (!t) continue;
      const key = `${g.path}\u0000${name}`;
      if (!floatConstants.has(key)) {
        const raw = t.elements <= 64 && t.storage.kind !== 'external' && t.storage.kind !== 'sparse' ? readRawBytesSync(t) : undefined;
        floatConstants.set(key, raw ? Array.from(widenToFloat32(t.dataType, raw, 0, t.elements)) : null);
      }
      return floatConstants.get(key) ?? undefined;
    }
    return undefined;
  };

  for (const g of index.graphs) if (!g.parent) visit(g);
  return { shapeOf, valueOf };
}


/**
 * The onnxruntime contrib ops our quantization writes: MatMulNBits (A [..., K] → [..., N]) and
 * GatherBlockQuantized along axis 0 (indices → indices' dims + a row of the table, whose stored
 * bytes hold 8 / bits values each), so shapes and MACs carry on past a quantized layer.
 */
function inferMicrosoft(op: string, n: NodeInfo, input: (i: number) => Shape | undefined): Shape | undefined {
  const x = input(0);
  if (op === 'MatMulNBits') return x && x.length > 0 ? [...x.slice(0, -1), attrInt(n, 'N', 0) || undefined] : undefined;
  if (op !== 'GatherBlockQuantized' || attrInt(n, 'gather_axis', 0) !== 0) return undefined;
  const indices = input(1);
  const rowBytes = x?.length === 2 ? x[1] : undefined;
  return indices && rowBytes !== undefined ? [...indices, (rowBytes * 8) / attrInt(n, 'bits', 4)] : undefined;
}
