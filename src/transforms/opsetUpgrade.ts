/**
 * Raising a model's default-domain opset without changing what it computes. Nodes whose
 * operator changed incompatibly on the way are rewritten to the new form (attributes that
 * became inputs become stored INT64/FLOAT inputs; old Softmax's flattened view is spelled out
 * with Flatten and Reshape; Resize-10 gets the roi input and its old coordinate mode). An
 * operator that cannot be carried over exactly blocks the raise: the transform then skips with
 * the reason and asks for a setting that fits the current opset.
 */
import type { ModelIndex, NodeInfo } from '../core/onnx/modelIndex';
import { AttributeType, type AttributeProto, type NodeProto, type TensorProto } from '../core/onnx/proto';
import { inferShapes, type ShapeInference } from '../analyzers/shapes';
import type { ModelPatch } from './patch';
import type { NameAllocator } from './names';
import { floatTensor, int64Tensor } from './tensorBuild';
import { elemTypes, type ElemTypeOf } from './valueTypes';
import { floatSourceTensor, isFloatSource } from './floatSource';
import { intAttr, makeNode } from './weightEdit';
import { irVersionFor } from './opset';

export interface OpsetRaise {
  /** Why the raise cannot be done exactly; undefined when it can. */
  readonly blocker?: string;
  /** Adds the rewrites and the new opset to a patch. */
  apply(patch: ModelPatch, names: NameAllocator): void;
}

interface Rewrite {
  readonly nodes: NodeProto[];
  readonly stored: TensorProto[];
}

type Upgrader = (n: NodeInfo, names: NameAllocator, shapes: () => ShapeInference, typeOf: ElemTypeOf) => Rewrite | string | undefined;

interface Change {
  readonly op: string;
  /** First version whose definition is incompatible with earlier ones. */
  readonly version: number;
  readonly upgrade: Upgrader;
}

const attr = (n: NodeProto, name: string): AttributeProto | undefined => n.attribute.find((a) => a.name === name);
const without = (n: NodeProto, ...names: string[]): AttributeProto[] => n.attribute.filter((a) => !names.includes(a.name ?? ''));
const FLT_MAX = 3.4028234663852886e38;

/** A scalar in the element type of the value it bounds or pads (FLOAT16 in half models; ±FLT_MAX saturates to the type's largest). */
function boundTensor(name: string, type: number, value: number): TensorProto {
  if (!isFloatSource(type)) return floatTensor(name, [], Float32Array.of(value));
  const limit = type === 10 ? 65504 : Infinity;
  return floatSourceTensor(name, type, [], [Math.max(-limit, Math.min(limit, value))]);
}

/** Moves INT64 list attributes to inputs (in order; an absent optional one becomes an empty name). */
function attributesToInputs(keys: readonly string[], trailingOptional = true): Upgrader {
  return (info, names) => {
    const n = info.node;
    if (!keys.some((k) => attr(n, k))) return undefined;
    const stored: TensorProto[] = [];
    const inputs = keys.map((k) => {
      const a = attr(n, k);
      if (!a) return '';
      const values = a.ints.length ? a.ints.map(Number) : a.i !== undefined ? [Number(a.i)] : [];
      const t = int64Tensor(names.fresh(`${info.label}_${k}`), [values.length], values);
      stored.push(t);
      return t.name ?? '';
    });
    while (trailingOptional && inputs.length && inputs[inputs.length - 1] === '') inputs.pop();
    return { nodes: [{ ...n, input: [...n.input, ...inputs], attribute: without(n, ...keys) }], stored };
  };
}

const blocked = (why: string): Upgrader => () => why;

const softmaxUpgrade: Upgrader = (info, names, shapes) => {
  const n = info.node;
  const axisAttr = attr(n, 'axis');
  const axis = axisAttr?.i !== undefined ? Number(axisAttr.i) : 1;
  const rank = shapes().shapeOf(n.input[0], info.graph)?.length;
  if (rank !== undefined && (axis === rank - 1 || axis === -1)) return undefined; // same result either way
  // The old definition: softmax over the 2-D view [d0·…·d(axis−1), d(axis)·…].
  const shape = names.fresh(`${info.label}_shape`);
  const flat = names.fresh(`${info.label}_2d`);
  const normalized = names.fresh(`${info.label}_2d_out`);
  return {
    stored: [],
    nodes: [
      makeNode('Shape', [n.input[0]], [shape], names.fresh(`${info.label}_Shape`)),
      makeNode('Flatten', [n.input[0]], [flat], names.fresh(`${info.label}_Flatten`), [intAttr('axis', axis)]),
      { ...n, input: [flat], output: [normalized], attribute: [...without(n, 'axis'), { ...intAttr('axis', -1), floats: [], ints: [], strings: [], tensors: [], graphs: [], typeProtos: [], sparseTensors: [] }] },
      makeNode('Reshape', [normalized, shape], [...n.output], names.fresh(`${info.label}_Reshape`)),
    ],
  };
};

const CHANGES: readonly Change[] = [
  { op: 'Scan', version: 9, upgrade: blocked('Scan changed its batching in opset 9') },
  { op: 'BatchNormalization', version: 9, upgrade: (info) => {
    const spatial = attr(info.node, 'spatial');
    if (spatial && Number(spatial.i ?? 1) !== 1) return 'BatchNormalization with spatial=0 was removed in opset 9';
    return spatial ? { nodes: [{ ...info.node, attribute: without(info.node, 'spatial') }], stored: [] } : undefined;
  } },
  { op: 'Slice', version: 10, upgrade: attributesToInputs(['starts', 'ends', 'axes']) },
  { op: 'TopK', version: 10, upgrade: attributesToInputs(['k']) },
  { op: 'Upsample', version: 10, upgrade: blocked('Upsample was removed in opset 10') },
  { op: 'Resize', version: 11, upgrade: (info, names) => {
    // Resize-10 is Resize-11 with asymmetric coordinates and floor rounding, and no roi input.
    const n = info.node;
    const roi = floatTensor(names.fresh(`${info.label}_roi`), [0], new Float32Array(0));
    const mode = attr(n, 'mode');
    const text = (name: string, value: string): AttributeProto => ({ name, s: new TextEncoder().encode(value), type: AttributeType.String, floats: [], ints: [], strings: [], tensors: [], graphs: [], typeProtos: [], sparseTensors: [] });
    const extra = [text('coordinate_transformation_mode', 'asymmetric')];
    if (!mode || new TextDecoder().decode(mode.s) === 'nearest') extra.push(text('nearest_mode', 'floor'));
    return { nodes: [{ ...n, input: [n.input[0], roi.name ?? '', n.input[1]], attribute: [...n.attribute, ...extra] }], stored: [roi] };
  } },
  { op: 'Pad', version: 11, upgrade: (info, names, _shapes, typeOf) => {
    const n = info.node;
    const pads = attr(n, 'pads')?.ints.map(Number) ?? [];
    const value = attr(n, 'value')?.f ?? 0;
    const p = int64Tensor(names.fresh(`${info.label}_pads`), [pads.length], pads);
    const v = boundTensor(names.fresh(`${info.label}_value`), typeOf(n.input[0], info.graph), value);
    return { nodes: [{ ...n, input: [n.input[0], p.name ?? '', v.name ?? ''], attribute: without(n, 'pads', 'value') }], stored: [p, v] };
  } },
  { op: 'Clip', version: 11, upgrade: (info, names, _shapes, typeOf) => {
    const n = info.node;
    const type = typeOf(n.input[0], info.graph);
    const lo = boundTensor(names.fresh(`${info.label}_min`), type, attr(n, 'min')?.f ?? -FLT_MAX);
    const hi = boundTensor(names.fresh(`${info.label}_max`), type, attr(n, 'max')?.f ?? FLT_MAX);
    return { nodes: [{ ...n, input: [n.input[0], lo.name ?? '', hi.name ?? ''], attribute: without(n, 'min', 'max') }], stored: [lo, hi] };
  } },
  { op: 'Scatter', version: 11, upgrade: (info) => ({ nodes: [{ ...info.node, opType: 'ScatterElements' }], stored: [] }) },
  { op: 'Dropout', version: 12, upgrade: (info, names) => {
    const n = info.node;
    const ratio = attr(n, 'ratio');
    if (!ratio && !attr(n, 'is_test')) return undefined;
    const r = floatTensor(names.fresh(`${info.label}_ratio`), [], Float32Array.of(ratio?.f ?? 0.5));
    return { nodes: [{ ...n, input: [n.input[0], r.name ?? ''], attribute: without(n, 'ratio', 'is_test') }], stored: [r] };
  } },
  { op: 'Squeeze', version: 13, upgrade: attributesToInputs(['axes']) },
  { op: 'Unsqueeze', version: 13, upgrade: attributesToInputs(['axes']) },
  { op: 'ReduceSum', version: 13, upgrade: attributesToInputs(['axes']) },
  { op: 'Split', version: 13, upgrade: attributesToInputs(['split']) },
  ...['Softmax', 'LogSoftmax', 'Hardmax'].map((op) => ({ op, version: 13, upgrade: softmaxUpgrade })),
  { op: 'RoiAlign', version: 16, upgrade: blocked('RoiAlign changed its default coordinate transformation in opset 16') },
  ...['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'].map((op) => ({
    op, version: 18, upgrade: attributesToInputs(['axes']),
  })),
  { op: 'GridSample', version: 20, upgrade: blocked('GridSample renamed its modes in opset 20') },
  { op: 'DFT', version: 20, upgrade: blocked('DFT takes dft_length and axis as inputs from opset 20') },
];

const ATTRIBUTE_BROADCAST_OPS = new Set(['Add', 'Sub', 'Mul', 'Div', 'Gemm', 'PRelu', 'Pow', 'Equal', 'Greater', 'Less', 'And', 'Or', 'Xor']);

/**
 * Shape inference of a model, kept with its index: a step is planned more than once on one model
 * (the size preview, then the step; FLOAT16 scales' second plan) and the whole graph's shapes
 * are most of a plan's cost (old Softmax needs its input's rank).
 */
const shapesOfIndex = new WeakMap<ModelIndex, ShapeInference>();

/** Plans raising the default-domain opset from `current` to `target`. */
export function planOpsetRaise(index: ModelIndex, current: number, target: number, names: NameAllocator): OpsetRaise {
  if (target <= current) return { apply: () => {} };
  if (current < 7) return { blocker: `raising opset ${current} models is not supported (opset 7 changed broadcasting)`, apply: () => {} };
  const shapeInference = (): ShapeInference => {
    let shapes = shapesOfIndex.get(index);
    if (!shapes) shapesOfIndex.set(index, (shapes = inferShapes(index)));
    return shapes;
  };
  let types: ElemTypeOf | undefined;
  const typeOf: ElemTypeOf = (name, graph) => (types ??= elemTypes(index))(name, graph);
  const rewrites: { info: NodeInfo; rewrite: Rewrite }[] = [];
  for (const info of index.nodes) {
    const n = info.node;
    if (info.graph.kind === 'function' || ((n.domain ?? '') !== '' && n.domain !== 'ai.onnx')) continue;
    if (ATTRIBUTE_BROADCAST_OPS.has(n.opType ?? '') && attr(n, 'broadcast')) {
      return { blocker: `${info.label} uses the broadcast attribute of opset 6`, apply: () => {} };
    }
    // No operator changed twice within the versions listed, so one rewrite per node suffices.
    const c = CHANGES.find((x) => x.op === n.opType && x.version > current && x.version <= target);
    const rewrite = c?.upgrade(info, names, shapeInference, typeOf);
    if (typeof rewrite === 'string') return { blocker: `raising the opset from ${current} to ${target} would change ${info.label}: ${rewrite}`, apply: () => {} };
    if (rewrite) rewrites.push({ info, rewrite });
  }
  return {
    apply: (patch) => {
      for (const { info, rewrite } of rewrites) {
        const p = patch.forGraph(info.graph.proto!);
        p.replaceNodes.set(info.node, rewrite.nodes);
        p.addInitializers.push(...rewrite.stored);
      }
      patch.requireOpset('', target);
      patch.irVersion = Math.max(patch.irVersion, irVersionFor(target));
    },
  };
}
