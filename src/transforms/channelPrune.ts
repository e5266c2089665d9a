/**
 * Structured pruning: output channels of a Conv, ConvTranspose, Gemm or MatMul with the
 * smallest L1/L2 norms are removed from the model, and the removal is carried through every
 * consumer: biases, BatchNormalization, per-channel constants of Add/Mul/PRelu, activations and
 * pooling, depthwise Convs (their filters and group go too), Concat (at the input's offset),
 * Flatten (each channel's spatial block), and finally the input channels of the next Conv,
 * Gemm or MatMul. Where the removal meets something it cannot carry exactly (a residual Add with
 * another branch, a graph output, a Reshape, a subgraph...) the layer is left alone and the
 * reason says where. Elementwise partners computed from the same channels by their own Conv
 * (squeeze-and-excitation gates) lose the same channels.
 *
 * Layers are pruned one after another, each on the model the previous one produced.
 */
import { readDenseFloat32, readRawBytes } from '../core/onnx/tensorData';
import { floatBytes, type FloatSource } from './floatSource';
import type { GraphInfo, NodeInfo, StoredTensor } from '../core/onnx/modelIndex';
import type { NodeProto } from '../core/onnx/proto';
import { attributeLayers, type Layer } from '../analyzers/layers';
import { inferShapes, type ShapeInference } from '../analyzers/shapes';
import type { PruneStep } from './recipe';
import { ModelPatch, applyPatch } from './patch';
import { rawTensor } from './tensorBuild';
import { floatWeightBlocker } from './targets';
import { replaceTensorValue } from './weightEdit';
import { stateOf } from './stateOf';
import { change, errorOf, skip, type LayerSkip, type ModelState, type TensorChange, type TransformContext, type TransformOutcome } from './transform';
import { plural } from '../shared/format';

const PASS_THROUGH = new Set([
  'Relu', 'LeakyRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'Mish',
  'Gelu', 'Erf', 'Identity', 'Dropout', 'Clip', 'Neg', 'Abs', 'Sqrt', 'Exp', 'Log', 'Reciprocal', 'Floor', 'Ceil', 'Round',
  'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'LpPool', 'GlobalLpPool', 'Resize', 'Upsample', 'Cast',
  'ThresholdedRelu', 'Sin', 'Cos', 'LRN', 'Shrink',
]);
const ELEMENTWISE_BINARY = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'PRelu']);

/** A value whose channels along `axisFromEnd` lose the `removed` indices (of `size`). */
interface Tracked {
  readonly name: string;
  readonly graph: GraphInfo;
  readonly axisFromEnd: number;
  readonly size: number;
  readonly removed: ReadonlySet<number>;
}

interface Plan {
  /** Stored tensor → (axis, removed indices). */
  readonly slices: Map<StoredTensor, { axis: number; removed: ReadonlySet<number> }>;
  readonly nodeChanges: Map<NodeInfo, NodeProto>;
  readonly changedValues: Set<string>;
}

class Refusal extends Error {}

function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a?.i !== undefined ? Number(a.i) : fallback;
}

/** Copies `values` (of `dims`) without the `removed` indices along `axis`. */
export function sliceAxis(values: Float32Array, dims: readonly number[], axis: number, removed: ReadonlySet<number>): { values: Float32Array; dims: number[] } {
  const cut = sliceAxisRaw(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 4, dims, axis, removed);
  return { values: new Float32Array(cut.raw.buffer), dims: cut.dims };
}

/** sliceAxis on raw bytes of elements `width` bytes wide. */
export function sliceAxisRaw(raw: Uint8Array, width: number, dims: readonly number[], axis: number, removed: ReadonlySet<number>): { raw: Uint8Array; dims: number[] } {
  const size = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1) * width;
  const outer = raw.length / (size * inner);
  const keep = Array.from({ length: size }, (_, i) => i).filter((i) => !removed.has(i));
  const out = new Uint8Array(outer * keep.length * inner);
  let at = 0;
  for (let o = 0; o < outer; o++) {
    for (const k of keep) {
      const from = (o * size + k) * inner;
      out.set(raw.subarray(from, from + inner), at);
      at += inner;
    }
  }
  return { raw: out, dims: dims.map((d, i) => (i === axis ? keep.length : d)) };
}

/** The output-channel axis of a layer's weight and how its output carries channels. */
function producerAxes(node: NodeProto, w: StoredTensor): { weightAxis: number; outputAxisFromEnd: number; why?: string } {
  switch (node.opType) {
    case 'Conv':
      if (intAttribute(node, 'group', 1) !== 1) return { weightAxis: 0, outputAxisFromEnd: 0, why: 'grouped and depthwise Convs are pruned through the layer before them' };
      return { weightAxis: 0, outputAxisFromEnd: -w.dims.length + 1 };
    case 'ConvTranspose':
      if (intAttribute(node, 'group', 1) !== 1) return { weightAxis: 1, outputAxisFromEnd: 0, why: 'grouped ConvTranspose is not pruned' };
      return { weightAxis: 1, outputAxisFromEnd: -w.dims.length + 1 };
    case 'Gemm':
      if (intAttribute(node, 'transA', 0)) return { weightAxis: 0, outputAxisFromEnd: -1, why: 'Gemm with transA is not pruned' };
      return { weightAxis: intAttribute(node, 'transB', 0) ? 0 : 1, outputAxisFromEnd: -1 };
    case 'MatMul':
      if (w.dims.length !== 2) return { weightAxis: 1, outputAxisFromEnd: -1, why: 'only 2-D MatMul weights are pruned' };
      return { weightAxis: 1, outputAxisFromEnd: -1 };
    default:
      return { weightAxis: 0, outputAxisFromEnd: 0, why: `${node.opType} output channels are not pruned (Conv, ConvTranspose, Gemm and MatMul are)` };
  }
}

function channelNorms(values: Float32Array, dims: readonly number[], axis: number, norm: 'l1' | 'l2'): Float64Array {
  const size = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Float64Array(size);
  for (let i = 0; i < values.length; i++) {
    const c = Math.floor(i / inner) % size;
    out[c] += norm === 'l1' ? Math.abs(values[i]) : values[i] * values[i];
  }
  return norm === 'l2' ? out.map(Math.sqrt) : out;
}

/** Where a value is used, in its graph; uses inside subgraphs and as graph outputs are flagged. */
class Uses {
  private readonly byGraph = new Map<GraphInfo, Map<string, { node: NodeInfo; input: number }[]>>();
  private readonly nested = new Set<string>();
  private readonly outputs = new Set<string>();

  constructor(state: ModelState) {
    for (const n of state.index.nodes) {
      let m = this.byGraph.get(n.graph);
      if (!m) this.byGraph.set(n.graph, (m = new Map()));
      n.node.input.forEach((name, input) => {
        if (!name) return;
        const list = m!.get(name);
        if (list) list.push({ node: n, input });
        else m!.set(name, [{ node: n, input }]);
        if (n.graph.parent) this.nested.add(name);
      });
    }
    for (const g of state.index.graphs) for (const o of g.proto?.output ?? []) if (o.name) this.outputs.add(o.name);
  }

  of(name: string, graph: GraphInfo): { node: NodeInfo; input: number }[] {
    if (this.outputs.has(name)) throw new Refusal(`'${name}' is a graph output`);
    if (this.nested.has(name) && !graph.parent) {
      // A name used by some subgraph node: it may be this value, seen from inside.
      const local = this.byGraph.get(graph)?.get(name) ?? [];
      const all = [...this.byGraph.values()].reduce((n, m) => n + (m.get(name)?.length ?? 0), 0);
      if (all > local.length) throw new Refusal(`'${name}' is used inside a subgraph`);
    }
    return this.byGraph.get(graph)?.get(name) ?? [];
  }
}

function planRemoval(state: ModelState, layer: Layer, removed: ReadonlySet<number>, size: number, weight: StoredTensor, weightAxis: number, outputAxisFromEnd: number, shapes: () => ShapeInference): Plan {
  const plan: Plan = { slices: new Map(), nodeChanges: new Map(), changedValues: new Set() };
  const uses = new Uses(state);
  const stored = new Map<string, StoredTensor>();
  for (const t of state.index.tensors) if (t.isValue) stored.set(`${t.graph.path}\u0000${t.name}`, t);
  const storedFor = (name: string, graph: GraphInfo): StoredTensor | undefined => {
    for (let g: GraphInfo | undefined = graph; g; g = g.parent) {
      const t = stored.get(`${g.path}\u0000${name}`);
      if (t) return t;
    }
    return undefined;
  };
  const consumers = new Map<string, number>();
  for (const n of state.index.nodes) for (const i of n.node.input) consumers.set(i, (consumers.get(i) ?? 0) + 1);

  const slice = (t: StoredTensor, axis: number, drop: ReadonlySet<number>, by: string): void => {
    const why = floatWeightBlocker(t);
    if (why) throw new Refusal(`'${t.name}' (${by}): ${why}`);
    if ((consumers.get(t.name) ?? 0) > 1) throw new Refusal(`'${t.name}' (${by}) is shared with other nodes`);
    const existing = plan.slices.get(t);
    if (existing) {
      if (existing.axis === axis && existing.removed === drop) return;
      throw new Refusal(`'${t.name}' would be cut twice`);
    }
    plan.slices.set(t, { axis, removed: drop });
  };

  // The producer itself: its weight rows/columns and its bias.
  const node = layer.node.node;
  slice(weight, weightAxis, removed, layer.node.label);
  const biasIndex = node.opType === 'Gemm' ? 2 : node.opType === 'MatMul' ? -1 : 2;
  if (biasIndex > 0 && node.input[biasIndex]) {
    const bias = storedFor(node.input[biasIndex], layer.node.graph);
    if (!bias) throw new Refusal(`the bias of ${layer.node.label} is not a stored tensor`);
    if (bias.dims.length === 1 && bias.dims[0] === size) slice(bias, 0, removed, layer.node.label);
    else if (!(bias.elements === 1)) throw new Refusal(`the bias of ${layer.node.label} has shape [${bias.dims.join(', ')}]`);
  }

  const visited = new Set<string>();
  const queue: Tracked[] = [{ name: node.output[0], graph: layer.node.graph, axisFromEnd: outputAxisFromEnd, size, removed }];
  const trackedByName = new Map<string, Tracked>();
  trackedByName.set(node.output[0], queue[0]);
  const follow = (t: Tracked): void => {
    if (trackedByName.has(t.name)) {
      const seen = trackedByName.get(t.name)!;
      if (seen.removed !== t.removed) throw new Refusal(`'${t.name}' is reached with two different channel sets`);
      return;
    }
    trackedByName.set(t.name, t);
    queue.push(t);
  };

  while (queue.length) {
    const v = queue.shift()!;
    if (visited.has(v.name)) continue;
    visited.add(v.name);
    plan.changedValues.add(v.name);
    for (const { node: user, input } of uses.of(v.name, v.graph)) {
      const n = user.node;
      const op = (n.domain ?? '') === '' || n.domain === 'ai.onnx' ? (n.opType ?? '') : `${n.domain}.${n.opType}`;
      const where = `${user.label} (${op})`;
      const out = (axisFromEnd = v.axisFromEnd, size = v.size, drop = v.removed): void =>
        follow({ name: n.output[0], graph: user.graph, axisFromEnd, size, removed: drop });
      if (PASS_THROUGH.has(op)) {
        if (input !== 0) throw new Refusal(`${where} takes the pruned value as a parameter`);
        out();
        continue;
      }
      switch (op) {
        case 'BatchNormalization':
        case 'InstanceNormalization': {
          if (input !== 0 || v.axisFromEnd !== (shapes().shapeOf(v.name, v.graph)?.length ?? 4) * -1 + 1) throw new Refusal(`${where} normalizes another axis`);
          for (let i = 1; i < n.input.length; i++) {
            const p = storedFor(n.input[i], user.graph);
            if (!p) throw new Refusal(`${where}: parameter '${n.input[i]}' is computed at run time`);
            slice(p, 0, v.removed, user.label);
          }
          out();
          continue;
        }
        case 'Add':
        case 'Sub':
        case 'Mul':
        case 'Div':
        case 'Pow':
        case 'Max':
        case 'Min':
        case 'PRelu': {
          const other = n.input[1 - input];
          const otherTracked = trackedByName.get(other);
          if (otherTracked && otherTracked.removed === v.removed) {
            out();
            continue;
          }
          const constant = storedFor(other, user.graph);
          if (constant) {
            const rank = constant.dims.length;
            const at = rank + v.axisFromEnd;
            if (at >= 0 && constant.dims[at] === v.size) slice(constant, at, v.removed, user.label);
            else if (at >= 0 && constant.dims[at] !== 1) throw new Refusal(`${where}: '${other}' has shape [${constant.dims.join(', ')}]`);
            out();
            continue;
          }
          if (ELEMENTWISE_BINARY.has(op) && coupleGate(other, user.graph, v, plan, slice, storedFor, uses, follow)) {
            out();
            continue;
          }
          throw new Refusal(`${where} combines the pruned channels with '${other}', which is not pruned alike (a residual Add, or an activation's second operand such as hard-swish's)`);
        }
        case 'Conv': {
          if (input !== 0) throw new Refusal(`${where} takes the pruned value as a weight`);
          const w = storedFor(n.input[1], user.graph);
          if (!w) throw new Refusal(`${where}: its weight is computed at run time`);
          const group = intAttribute(n, 'group', 1);
          if (group === 1) {
            slice(w, 1, v.removed, user.label);
            continue;
          }
          if (group === v.size && w.dims[1] === 1 && w.dims[0] === v.size) {
            // Depthwise: each channel has its own filter; the channel disappears from its output too.
            slice(w, 0, v.removed, user.label);
            if (n.input[2]) {
              const b = storedFor(n.input[2], user.graph);
              if (!b) throw new Refusal(`${where}: its bias is computed at run time`);
              slice(b, 0, v.removed, user.label);
            }
            const attribute = n.attribute.map((a) => (a.name === 'group' ? { ...a, i: v.size - v.removed.size } : a));
            plan.nodeChanges.set(user, { ...n, attribute });
            out();
            continue;
          }
          throw new Refusal(`${where} is a grouped Conv with ${group} groups`);
        }
        case 'ConvTranspose': {
          const w = storedFor(n.input[1], user.graph);
          if (input !== 0 || !w || intAttribute(n, 'group', 1) !== 1) throw new Refusal(`${where} cannot take fewer input channels`);
          slice(w, 0, v.removed, user.label);
          continue;
        }
        case 'Gemm':
        case 'MatMul': {
          const w = storedFor(n.input[1], user.graph);
          if (input !== 0 || !w || w.dims.length !== 2 || v.axisFromEnd !== -1) throw new Refusal(`${where} cannot take fewer input features`);
          if (op === 'Gemm' && intAttribute(n, 'transA', 0)) throw new Refusal(`${where} has transA`);
          const transB = op === 'Gemm' && intAttribute(n, 'transB', 0);
          slice(w, transB ? 1 : 0, v.removed, user.label);
          continue;
        }
        case 'Flatten': {
          const shape = shapes().shapeOf(v.name, v.graph);
          const axis = intAttribute(n, 'axis', 1);
          const rank = shape?.length;
          if (!shape || rank === undefined || axis < 0 || rank + v.axisFromEnd !== axis) throw new Refusal(`${where}: the channel axis does not start the flattened block`);
          const trailing = shape.slice(axis + 1);
          if (trailing.some((d) => d === undefined)) throw new Refusal(`${where}: the spatial size is unknown`);
          const block = (trailing as number[]).reduce((a, b) => a * b, 1);
          const drop = new Set<number>();
          for (const c of v.removed) for (let s = 0; s < block; s++) drop.add(c * block + s);
          out(-1, v.size * block, drop);
          continue;
        }
        case 'Concat': {
          const shape = shapes().shapeOf(v.name, v.graph);
          const rank = shape?.length;
          const axisAttr = intAttribute(n, 'axis', 0);
          const axis = rank !== undefined && axisAttr < 0 ? axisAttr + rank : axisAttr;
          if (rank === undefined || rank + v.axisFromEnd !== axis) throw new Refusal(`${where} does not join along the channel axis`);
          if (n.input.filter((x) => x === v.name).length > 1) throw new Refusal(`${where} uses the pruned value twice`);
          let offset = 0;
          for (let i = 0; i < input; i++) {
            const d = shapes().shapeOf(n.input[i], user.graph)?.[axis];
            if (d === undefined) throw new Refusal(`${where}: the channels of '${n.input[i]}' are unknown`);
            offset += d;
          }
          let total = 0;
          for (const x of n.input) {
            const d = shapes().shapeOf(x, user.graph)?.[axis];
            if (d === undefined) throw new Refusal(`${where}: the channels of '${x}' are unknown`);
            total += d;
          }
          out(v.axisFromEnd, total, new Set([...v.removed].map((c) => c + offset)));
          continue;
        }
        default:
          throw new Refusal(`${where} cannot carry the removal`);
      }
    }
  }
  return plan;
}

/**
 * A gate multiplied with the pruned channels (squeeze-and-excitation): when `name` comes, through
 * single-use activations, from a Conv or Gemm used only here, that layer loses the same output
 * channels. Returns false when it does not.
 */
function coupleGate(
  name: string,
  graph: GraphInfo,
  v: Tracked,
  plan: Plan,
  slice: (t: StoredTensor, axis: number, drop: ReadonlySet<number>, by: string) => void,
  storedFor: (name: string, graph: GraphInfo) => StoredTensor | undefined,
  uses: Uses,
  follow: (t: Tracked) => void,
): boolean {
  const producer = new Map<string, NodeInfo>();
  for (const n of graph.nodes) for (const o of n.node.output) producer.set(o, n);
  const chain: string[] = [];
  let current = name;
  for (let depth = 0; depth < 8; depth++) {
    const p = producer.get(current);
    if (!p || uses.of(current, graph).length !== 1) return false;
    const op = p.node.opType ?? '';
    if (op === 'Conv' || op === 'Gemm') {
      const w = storedFor(p.node.input[1], graph);
      if (!w) return false;
      const axes = producerAxes(p.node, w);
      if (axes.why || axes.outputAxisFromEnd !== v.axisFromEnd) return false;
      if (w.dims[axes.weightAxis] !== v.size) return false;
      slice(w, axes.weightAxis, v.removed, p.label);
      const b = p.node.input[2] ? storedFor(p.node.input[2], graph) : undefined;
      if (p.node.input[2] && !b) return false;
      if (b) slice(b, 0, v.removed, p.label);
      for (const c of [p.node.output[0], ...chain]) {
        plan.changedValues.add(c);
        follow({ name: c, graph, axisFromEnd: v.axisFromEnd, size: v.size, removed: v.removed });
      }
      return true;
    }
    if (!PASS_THROUGH.has(op)) return false;
    chain.push(current);
    current = p.node.input[0];
  }
  return false;
}

export async function pruneChannels(ctx: TransformContext, step: PruneStep): Promise<TransformOutcome> {
  const outcome: TransformOutcome = { changed: [], skipped: [] };
  let state = ctx.state;
  const names = ctx.layers.map((l) => ({ graph: l.node.graph.path, label: l.node.label }));
  for (const target of names) {
    await ctx.checkpoint();
    const layer = attributeLayers(state.index).layers.find((l) => l.node.graph.path === target.graph && l.node.label === target.label);
    if (!layer) continue;
    const result = await pruneOne(state, layer, step);
    if ('reason' in result) {
      outcome.skipped.push(result);
      continue;
    }
    outcome.changed.push(result.change);
    state = result.state;
  }
  return { ...outcome, state };
}

async function pruneOne(state: ModelState, layer: Layer, step: PruneStep): Promise<{ change: ReturnType<typeof change>; state: ModelState } | LayerSkip> {
  const node = layer.node.node;
  const weight = state.index.tensors.find((t) => t.isValue && t.name === node.input[1] && layer.weights.includes(t));
  if (!weight) return skip(layer, 'its weight input is not a stored tensor');
  const axes = producerAxes(node, weight);
  if (axes.why) return skip(layer, axes.why);
  const values = await readDenseFloat32(weight);
  const size = weight.dims[axes.weightAxis];
  const count = Math.min(size - 1, Math.round(step.sparsity * size));
  if (count <= 0) return skip(layer, `${Math.round(step.sparsity * 100)}% of ${plural(size, 'channel')} rounds to no channel to remove`);
  const norms = channelNorms(values, weight.dims, axes.weightAxis, step.norm);
  const order = Array.from({ length: size }, (_, i) => i).sort((a, b) => norms[a] - norms[b] || a - b);
  const removed = new Set(order.slice(0, count));
  let shapes: ShapeInference | undefined;
  let plan: Plan;
  try {
    plan = planRemoval(state, layer, removed, size, weight, axes.weightAxis, axes.outputAxisFromEnd, () => (shapes ??= inferShapes(state.index)));
  } catch (e) {
    if (e instanceof Refusal) return skip(layer, e.message);
    throw e;
  }
  const patch = new ModelPatch();
  const tensors: TensorChange[] = [];
  for (const [t, { axis, removed: drop }] of plan.slices) {
    // Sliced as bytes, element by element: every kept weight stays bit for bit in its own type.
    const cut = sliceAxisRaw(await readRawBytes(t), floatBytes(t.dataType as FloatSource), t.dims, axis, drop);
    replaceTensorValue(patch, t, rawTensor(t.name, t.dataType, cut.dims, cut.raw));
    tensors.push({ tensor: t.name, bytesBefore: t.bytes, bytesAfter: cut.raw.length, detail: { axis, removed: [...drop].sort((a, b) => a - b).join(','), of: t.dims[axis] } });
  }
  for (const [info, next] of plan.nodeChanges) patch.forGraph(info.graph.proto!).replaceNodes.set(info.node, [next]);
  // Declared shapes of values that lost channels are dropped; onnxruntime infers them again.
  for (const g of state.index.graphs) {
    if (!g.proto) continue;
    for (const v of g.proto.valueInfo) if (v.name && plan.changedValues.has(v.name)) patch.forGraph(g.proto).removeValueInfo.add(v.name);
  }
  const kept = sliceAxis(values, weight.dims, axes.weightAxis, removed).values;
  const main = tensors.find((t) => t.tensor === weight.name)!;
  const mainIndex = tensors.indexOf(main);
  // The error a layer's own weight suffers: removed channels count as zeroed.
  const zeroed = Float32Array.from(values);
  const inner = weight.dims.slice(axes.weightAxis + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < zeroed.length; i++) if (removed.has(Math.floor(i / inner) % size)) zeroed[i] = 0;
  tensors[mainIndex] = { ...main, ...errorOf(values, zeroed), detail: { ...main.detail, channelsKept: kept.length / (values.length / size), norm: step.norm } };
  const proto = applyPatch(state.proto, patch);
  return { change: change(layer, tensors), state: stateOf(proto, state.dir) };
}
