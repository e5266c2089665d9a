/**
 * Static (full) quantization in the QDQ format onnxruntime fuses into integer kernels
 * (QLinearConv, QLinearMatMul, QGemm): around every Conv, MatMul and Gemm of the main graph,
 * the activation input and the output pass through QuantizeLinear → DequantizeLinear (UINT8,
 * asymmetric, ranges from calibration), the weight becomes INT8 symmetric codes + DequantizeLinear
 * (per channel or per tensor), and a 1-D bias becomes INT32 codes with scale s_input · s_weight.
 * Calibration runs the float model with the activations exposed as outputs, through the
 * Calibrator the caller provides (onnxruntime in a child process).
 */
import { DataType, dataTypeName } from '../core/onnx/dataTypes';
import { readDenseFloat32 } from '../core/onnx/tensorData';
import { saveTempModel } from '../core/onnx/tempModel';
import type { NodeInfo, StoredTensor } from '../core/onnx/modelIndex';
import type { NodeProto, TensorProto } from '../core/onnx/proto';
import type { QuantizeStep } from './recipe';
import { rangeOf, scaleLayout } from './quantizeMath';
import { HALF_DEQUANTIZE_OPSET, outputAs, quantizeAs } from './dequantizeOutput';
import { floatSourceTensor, type FloatSource } from './floatSource';
import { elemTypes } from './valueTypes';
import { floatTensor, int8Tensor, rawTensor, uint8Tensor } from './tensorBuild';
import { inPlaceBlocker, layerWeights } from './targets';
import { intAttr, makeNode, replaceTensorWithNodes } from './weightEdit';
import { defaultOpset } from './opset';
import { planOpsetRaise } from './opsetUpgrade';
import { needsHistograms, rangeFor } from './calibration';
import { change, errorOf, skip, type TensorChange, type TransformContext, type TransformOutcome } from './transform';
import { attributeLayers, type Layer } from '../analyzers/layers';
import { foldBatchNorms } from './foldBatchNorm';
import { ModelPatch, applyPatch } from './patch';
import { NameAllocator } from './names';
import { stateOf } from './stateOf';
import { plural } from '../shared/format';

const QUANTIZABLE = new Set(['Conv', 'MatMul', 'Gemm']);

interface Target {
  readonly layer: Layer;
  readonly weight: StoredTensor;
  readonly channelAxis: number;
  readonly bias?: StoredTensor;
}

/** UINT8 asymmetric parameters of a range containing zero. */
export function activationParams(lo: number, hi: number): { scale: number; zeroPoint: number } {
  const scale = hi > lo ? Math.fround((hi - lo) / 255) : 1;
  const z = Math.round(-lo / scale);
  return { scale, zeroPoint: Math.min(255, Math.max(0, z)) };
}

export async function quantizeStatic(ctx: TransformContext, step: QuantizeStep): Promise<TransformOutcome> {
  if (!ctx.services?.calibrator) {
    return { changed: [], skipped: ctx.layers.map((l) => skip(l, 'static quantization needs onnxruntime to calibrate, and none was provided')), notes: [] };
  }
  // BatchNormalization after a Conv is folded first; quantization then works on that model.
  const fold = await foldBatchNorms(ctx.state, ctx.layers);
  if (fold.folded === 0) return quantizeFolded(ctx, step);
  const byLabel = new Map(ctx.layers.map((l) => [`${l.node.graph.path}\u0000${l.node.label}`, true]));
  const layers = attributeLayers(fold.state.index).layers.filter((l) => byLabel.has(`${l.node.graph.path}\u0000${l.node.label}`));
  const patch = new ModelPatch();
  const inner: TransformContext = { ...ctx, state: fold.state, layers, patch, names: new NameAllocator(fold.state.index) };
  const outcome = await quantizeFolded(inner, step);
  outcome.notes!.unshift(`folded ${plural(fold.folded, 'BatchNormalization node')} into the Conv before them`);
  return { ...outcome, state: stateOf(applyPatch(fold.state.proto, patch), fold.state.dir) };
}

async function quantizeFolded(ctx: TransformContext, step: QuantizeStep): Promise<TransformOutcome> {
  const outcome: TransformOutcome = { changed: [], skipped: [], notes: [] };
  const calibration = step.calibration!;
  const factory = ctx.services!.calibrator!;
  const opset = defaultOpset(ctx.state.proto.opsetImport);
  const main = ctx.state.index.graphs.find((g) => g.kind === 'main')!;
  const typeOf = elemTypes(ctx.state.index);
  // FLOAT16 activations need QuantizeLinear/DequantizeLinear with FLOAT16 scales: opset 19.
  const activationType = (v: string): number => typeOf(v, main);
  const halfModel = ctx.layers.some((l) => activationType(l.node.node.input[0]) === DataType.Float16);
  const needed = halfModel ? HALF_DEQUANTIZE_OPSET : 13;
  const raise = planOpsetRaise(ctx.state.index, opset, needed, ctx.names);
  const storedNames = new Set(ctx.state.index.tensors.filter((t) => t.isValue && t.graph.kind === 'main').map((t) => t.name));

  const targets: Target[] = [];
  for (const layer of ctx.layers) {
    const node = layer.node.node;
    const op = node.opType ?? '';
    const why = ((): string | undefined => {
      if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') return `${node.domain}.${op} is not quantized`;
      if (!QUANTIZABLE.has(op)) return `${op} is not statically quantized (Conv, MatMul and Gemm are)`;
      if (layer.node.graph.kind !== 'main') return 'it is inside a subgraph';
      if (raise.blocker) return `static quantization needs opset ${needed}; ${raise.blocker}`;
      if (storedNames.has(node.input[0])) return 'its first input is a stored tensor';
      const inputType = activationType(node.input[0]);
      if (inputType !== DataType.Float && inputType !== DataType.Float16) return `its input is ${dataTypeName(inputType)}: activations are quantized from FLOAT or FLOAT16`;
      if (op === 'Gemm' && node.attribute.some((a) => a.name === 'transA' && Number(a.i) === 1)) return 'Gemm with transA is not quantized';
      return undefined;
    })();
    if (why) {
      outcome.skipped.push(skip(layer, why));
      continue;
    }
    const w = layerWeights(layer).find((x) => x.operand === 1);
    const blocker = w ? inPlaceBlocker(w) : 'its weight is not a stored tensor of rank 2 or more';
    if (!w || !w.role || blocker) {
      outcome.skipped.push(skip(layer, blocker ?? `its weight '${w?.tensor.name}' has no known channel axis`));
      continue;
    }
    const biasName = op === 'MatMul' ? undefined : node.input[2];
    const bias = biasName ? ctx.state.index.tensors.find((t) => t.isValue && t.name === biasName && t.graph === layer.node.graph) : undefined;
    const channels = w.tensor.dims[w.role.channelAxis];
    const usableBias = bias && bias.dataType === DataType.Float && bias.dims.length === 1 && bias.dims[0] === channels && bias.origin === 'initializer' ? bias : undefined;
    targets.push({ layer, weight: w.tensor, channelAxis: w.role.channelAxis, bias: usableBias });
  }
  if (targets.length === 0) return outcome;

  // Calibration: the float model with every activation to quantize exposed as an output.
  const values = [...new Set(targets.flatMap((t) => [t.layer.node.node.input[0], t.layer.node.node.output[0]]))];
  const graph = ctx.state.proto.graph!;
  const declared = new Set(graph.output.map((o) => o.name));
  const exposed = values
    .filter((v) => !declared.has(v))
    .map((name) => ({ name, type: { tensorType: { elemType: activationType(name) } }, metadataProps: [] }));
  const { file, dispose } = await saveTempModel({ proto: { ...ctx.state.proto, graph: { ...graph, output: [...graph.output, ...exposed] } }, dir: ctx.state.dir }, 'calibration', 'calibration.onnx');
  let ranges: Map<string, [number, number]>;
  try {
    const calibrator = factory(ctx.state.proto, calibration);
    await ctx.checkpoint();
    let stats = await calibrator.collect(file, values);
    if (needsHistograms(calibration)) {
      const histograms = Object.fromEntries(values.map((v) => [v, Math.max(Math.abs(stats[v].min), Math.abs(stats[v].max))]));
      stats = await calibrator.collect(file, values, histograms);
    }
    ranges = new Map(values.map((v) => [v, rangeFor(stats[v], calibration)]));
    outcome.notes!.push(`calibrated (${calibration.method}) on ${calibrator.description}`);
    // Said before anyone measures it: the file shrinks, but nothing runs faster.
    if (halfModel) outcome.notes!.push('FLOAT16 activations: onnxruntime has no integer kernels to fuse these QuantizeLinear/DequantizeLinear pairs into (it does for FLOAT), so the model runs its float kernels plus the conversions, slower than before; weight-only quantization keeps the speed');
  } finally {
    dispose();
  }

  // Activations: Q → DQ after the producer; consumers read the DQ output.
  const producer = new Map<string, NodeInfo>();
  for (const n of main.nodes) for (const o of n.node.output) producer.set(o, n);
  const renames = new Map<NodeProto, Map<string, string>>();
  const after = new Map<NodeProto, NodeProto[]>();
  const params = new Map<string, { scale: string; zeroPoint: string; value: number }>();
  const p = ctx.patch.forGraph(graph);
  for (const v of values) {
    const [lo, hi] = ranges.get(v)!;
    const { scale, zeroPoint } = activationParams(lo, hi);
    // Scales have the activation's type (FLOAT16 in half models).
    const s = floatSourceTensor(ctx.names.fresh(`${v}_scale`), activationType(v) as FloatSource, [], [scale]);
    const z = uint8Tensor(ctx.names.fresh(`${v}_zero_point`), [], Uint8Array.of(zeroPoint));
    p.addInitializers.push(s, z);
    params.set(v, { scale: s.name!, zeroPoint: z.name!, value: scale });
    const quantized = ctx.names.fresh(`${v}_quantized`);
    const dequantized = ctx.names.fresh(`${v}_dequantized`);
    const pair = [
      makeNode('QuantizeLinear', [v, s.name!, z.name!], [quantized], ctx.names.fresh(`${v}_QuantizeLinear`)),
      makeNode('DequantizeLinear', [quantized, s.name!, z.name!], [dequantized], ctx.names.fresh(`${v}_DequantizeLinear`)),
    ];
    const from = producer.get(v);
    if (from) after.set(from.node, [...(after.get(from.node) ?? []), ...pair]);
    else p.prependNodes.push(...pair);
    for (const n of main.nodes) {
      if (!n.node.input.includes(v)) continue;
      let m = renames.get(n.node);
      if (!m) renames.set(n.node, (m = new Map()));
      m.set(v, dequantized);
    }
  }
  for (const n of main.nodes) {
    const r = renames.get(n.node);
    const a = after.get(n.node);
    if (!r && !a) continue;
    const renamed = r ? { ...n.node, input: n.node.input.map((i) => r.get(i) ?? i) } : n.node;
    p.replaceNodes.set(n.node, [renamed, ...(a ?? [])]);
  }

  // Weights and biases.
  for (const t of targets) {
    await ctx.checkpoint();
    const values = await readDenseFloat32(t.weight);
    const layout = scaleLayout(t.weight.dims, step.granularity, t.channelAxis, 0);
    const range = calibration.reduceRange ? { qmin: -63, qmax: 63, symmetricZero: 0, symmetricMax: 63 } : rangeOf('int8');
    const source = t.weight.dataType as FloatSource;
    const scaleType: FloatSource = source === DataType.Float16 && halfModel ? DataType.Float16 : DataType.Float;
    const q = quantizeAs(values, layout, range, true, source, scaleType);
    const codes = int8Tensor(ctx.names.fresh(`${t.weight.name}_quantized`), t.weight.dims, Int8Array.from(q.codes));
    const scales = floatSourceTensor(ctx.names.fresh(`${t.weight.name}_scale`), scaleType, layout.scaleDims, q.scales);
    const axis = layout.axis !== undefined ? [intAttr('axis', layout.axis)] : [];
    replaceTensorWithNodes(ctx.patch, t.weight, [codes, scales], outputAs(ctx.names, t.weight.name, source, scaleType, (out) =>
      makeNode('DequantizeLinear', [codes.name!, scales.name!], [out], ctx.names.fresh(`${t.weight.name}_DequantizeLinear`), axis)));
    const changes: TensorChange[] = [{
      tensor: t.weight.name,
      bytesBefore: t.weight.bytes,
      bytesAfter: codes.rawData!.length + scales.rawData!.length,
      ...errorOf(values, q.restored),
      detail: { dtype: calibration.reduceRange ? 'int8 (7-bit range)' : 'int8', granularity: layout.axis === undefined ? 'per-tensor' : 'per-channel', input: rangeText(ranges.get(t.layer.node.node.input[0])!), output: rangeText(ranges.get(t.layer.node.node.output[0])!) },
    }];
    if (t.bias) changes.push(await quantizeBias(ctx, t, params.get(t.layer.node.node.input[0])!.value, q.scales));
    outcome.changed.push(change(t.layer, changes));
  }
  raise.apply(ctx.patch, ctx.names);
  return outcome;
}

function rangeText([lo, hi]: [number, number]): string {
  return `[${lo.toPrecision(4)}, ${hi.toPrecision(4)}]`;
}

/** INT32 bias codes with scale s_input · s_weight (per output channel), as integer kernels expect. */
async function quantizeBias(ctx: TransformContext, t: Target, inputScale: number, weightScales: Float32Array): Promise<TensorChange> {
  const bias = t.bias!;
  const values = await readDenseFloat32(bias);
  const channels = values.length;
  const scales = new Float32Array(channels);
  const codes = new Int32Array(channels);
  const restored = new Float32Array(channels);
  for (let c = 0; c < channels; c++) {
    const s = Math.fround(inputScale * (weightScales.length === 1 ? weightScales[0] : weightScales[c]));
    scales[c] = s > 0 ? s : 1;
    codes[c] = Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.round(values[c] / scales[c])));
    restored[c] = codes[c] * scales[c];
  }
  const q = rawTensor(ctx.names.fresh(`${bias.name}_quantized`), DataType.Int32, [channels], new Uint8Array(codes.buffer));
  const s = floatTensor(ctx.names.fresh(`${bias.name}_scale`), [channels], scales);
  replaceTensorWithNodes(ctx.patch, bias, [q, s] as TensorProto[], [
    makeNode('DequantizeLinear', [q.name!, s.name!], [bias.name], ctx.names.fresh(`${bias.name}_DequantizeLinear`), [intAttr('axis', 0)]),
  ]);
  return { tensor: bias.name, bytesBefore: bias.bytes, bytesAfter: channels * 8, ...errorOf(values, restored), detail: { dtype: 'int32' } };
}
