/**
 * GPTQ as a quantize method: the inputs of every target MatMul, Gemm and 2-D Conv are exposed as
 * model outputs, the model (cut after the group's inputs) runs over the calibration data
 * (onnxruntime, through the Calibrator the caller provides) gathering the inputs' Hessians a
 * group at a time (a Conv's over im2col
 * rows, per group of channels), and each weight W [K, N] is then quantized by gptqQuantize on it
 * (a Conv's through gptqConv.ts). The codes are written like round to nearest's: DequantizeLinear
 * (quantize.ts' writeIntegers) or MatMulNBits (matMulNBits.ts' writeMatMulNBits).
 */
import { transposed } from '../core/transpose';
import { DataType, dataTypeName } from '../core/onnx/dataTypes';
import { saveTempModel, type TempModel } from '../core/onnx/tempModel';
import { graphUpTo } from '../core/onnx/graphUpTo';
import type { NodeProto } from '../core/onnx/proto';
import type { Layer } from '../analyzers/layers';
import type { QuantizeStep } from './recipe';
import { gptqLayout, gptqQuantize, type GptqOptions } from './gptq';
import { factorArray, factorCopy } from './cholesky';
import { scaleLayout, type Quantized, type ScaleLayout } from './quantizeMath';
import { roundTo, roundUpTo, type FloatSource } from './floatSource';
import { elemTypes } from './valueTypes';
import { convShape, gptqConv, paddedChannels, type ConvShape } from './gptqConv';
import { quantizeChoice } from '../analyzers/resultBytes';
import { layerWeights, type WeightTarget } from './targets';
import { skip, type LayerSkip, type TransformContext } from './transform';
import { plural } from '../shared/format';

/** The largest K whose Hessian is gathered (K² doubles per input; the onnxruntime runner refuses more). */
export const GPTQ_MAX_K = 4096;

/**
 * A layer GPTQ can quantize: its weight (operand 1), W's shape [K, N] (a Conv's: K = kh·kw·C/g
 * per group, N = M), the input whose Hessian it needs, and that Hessian's key (the input's
 * name; for a Conv, with its geometry, as two Convs may read one input with different kernels).
 */
export interface GptqTarget {
  readonly w: WeightTarget;
  readonly k: number;
  readonly n: number;
  readonly transB: boolean;
  readonly input: string;
  readonly key: string;
  readonly conv?: ConvShape;
}

/** The layers GPTQ takes, their inputs' Hessians on demand, or why every layer is skipped. */
export interface GptqCalibration {
  readonly targets: Map<Layer, GptqTarget>;
  /**
   * The Hessian of a target's input by its key (gathered with the next few in one run of the
   * model), the caller's to overwrite: the last target reading that input is handed the gathered
   * one, the others a copy.
   */
  hessian(key: string): Promise<Float64Array>;
  readonly skipped: LayerSkip[];
  /** What the calibration ran on, once the Hessians are gathered. */
  note(): string | undefined;
  /** Removes the calibration model; call in a `finally`. */
  dispose(): void;
}

const attr = (n: NodeProto, name: string): number | undefined => {
  const a = n.attribute.find((x) => x.name === name);
  return a?.i !== undefined ? Number(a.i) : a?.f;
};

/** A Conv target: K per group as GPTQ sees it (channels padded to whole blocks), N = M. */
function convTarget(layer: Layer, w: WeightTarget, input: string, step: QuantizeStep): GptqTarget | string {
  const s = convShape(layer.node, w.tensor.dims);
  if (typeof s === 'string') return s;
  const k = s.kh * s.kw * paddedChannels(s.cg, convGranularity(w, step) === 'block' ? step.blockSize : 0);
  if (k > GPTQ_MAX_K) return `its patches have K = ${k} features: GPTQ gathers Hessians up to K = ${GPTQ_MAX_K}`;
  return { w, k, n: s.m, transB: false, input, key: `${input} ${JSON.stringify(s.geometry)}`, conv: s };
}

/** Blocks along a Conv's input channels, as round to nearest chooses (per channel when C/g is under a block). */
function convGranularity(w: WeightTarget, step: QuantizeStep): 'per-channel' | 'block' {
  return step.granularity === 'block' && quantizeChoice(w.tensor.dims, w.role, 'block', step.blockSize).granularity === 'block' ? 'block' : 'per-channel';
}

function targetOf(layer: Layer, step: QuantizeStep, typeOf: (v: string) => number, stored: ReadonlySet<string>): GptqTarget | string {
  const node = layer.node.node;
  const op = node.opType ?? '';
  if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') return `${node.domain}.${op} is not reconstructed by GPTQ`;
  if (op !== 'MatMul' && op !== 'Gemm' && op !== 'Conv') return `GPTQ here reconstructs MatMul, Gemm and Conv layers, not ${op}`;
  if (op === 'Conv' && step.format === 'matmulnbits') return 'a Conv has no MatMulNBits form';
  if (layer.node.graph.kind !== 'main') return 'it is inside a subgraph (its input cannot be exposed for calibration)';
  const w = layerWeights(layer).find((x) => x.operand === 1);
  if (op === 'Conv') {
    if (!w) return 'its weight input is not a stored tensor';
    if (stored.has(node.input[0])) return 'its first input is a stored tensor';
    const type = typeOf(node.input[0]);
    if (type !== DataType.Float && type !== DataType.Float16 && type !== DataType.BFloat16 && type !== DataType.Double) return `its input is ${dataTypeName(type)}: GPTQ calibrates on float inputs`;
    return convTarget(layer, w, node.input[0], step);
  }
  if (!w || w.tensor.dims.length !== 2) return 'its weight input is not a stored 2-D matrix';
  if (op === 'Gemm' && attr(node, 'transA') === 1) return 'a Gemm with transA is not reconstructed by GPTQ';
  const input = node.input[0];
  if (stored.has(input)) return 'its first input is a stored tensor';
  const type = typeOf(input);
  if (type !== DataType.Float && type !== DataType.Float16 && type !== DataType.BFloat16 && type !== DataType.Double) return `its input is ${dataTypeName(type)}: GPTQ calibrates on float inputs`;
  const transB = op === 'Gemm' && attr(node, 'transB') === 1;
  const [rows, cols] = w.tensor.dims;
  const [k, n] = transB ? [cols, rows] : [rows, cols];
  if (k > GPTQ_MAX_K) return `its weight has K = ${k} inputs: GPTQ gathers Hessians up to K = ${GPTQ_MAX_K}`;
  return { w, k, n, transB, input, key: input };
}

/** Bytes of a target's Hessians: K² doubles per group of channels. */
const hessianBytes = (t: GptqTarget): number => (t.conv?.geometry.group ?? 1) * (t.conv ? t.conv.kh * t.conv.kw * t.conv.cg : t.k) ** 2 * 8;

/** Bytes of Hessians (float64, K² each) gathered in one run of the model: one K = 4096 input and some smaller ones. */
export const HESSIAN_BUDGET_BYTES = 192 * 2 ** 20;

/**
 * Picks the layers GPTQ can quantize; their inputs' Hessians are gathered when first asked for,
 * a group of inputs (in the order the layers ask, up to a budget of Hessian bytes) per run of
 * the model, and dropped when the next group is gathered: a 24-layer transformer needs GBs of
 * Hessians in all, never at once. Without a calibrator every layer is skipped with the reason.
 */
export async function gptqCalibrate(ctx: TransformContext, step: QuantizeStep): Promise<GptqCalibration> {
  const budget = ctx.services?.hessianBudgetBytes ?? HESSIAN_BUDGET_BYTES;
  const targets = new Map<Layer, GptqTarget>();
  const skipped: LayerSkip[] = [];
  const factory = ctx.services?.calibrator;
  const none = { hessian: () => Promise.reject(new Error('no GPTQ targets')), note: () => undefined, dispose: () => undefined };
  if (!factory) {
    return { targets, skipped: ctx.layers.map((l) => skip(l, 'GPTQ needs onnxruntime to calibrate, and none was provided')), ...none };
  }
  const main = ctx.state.index.graphs.find((g) => g.kind === 'main')!;
  const types = elemTypes(ctx.state.index);
  const typeOf = (v: string): number => types(v, main);
  const stored = new Set(ctx.state.index.tensors.filter((t) => t.isValue && t.graph.kind === 'main').map((t) => t.name));
  for (const layer of ctx.layers) {
    const t = targetOf(layer, step, typeOf, stored);
    if (typeof t === 'string') skipped.push(skip(layer, t));
    else targets.set(layer, t);
  }
  if (targets.size === 0) return { targets, skipped, ...none };
  // Hessians in the order the layers ask for them, with their bytes; a Conv's with its geometry.
  const sizes = new Map([...targets.values()].map((t) => [t.key, hessianBytes(t)]));
  const values = [...sizes.keys()];
  const convs = Object.fromEntries([...targets.values()].filter((t) => t.conv).map((t) => [t.key, { value: t.input, geometry: t.conv!.geometry }]));
  const graph = ctx.state.proto.graph!;
  const declared = new Map(graph.output.map((o) => [o.name, o]));
  const valueOf = (key: string): string => convs[key]?.value ?? key;
  /** A model giving these Hessians' inputs, cut after them (onnxruntime runs every node it holds). */
  const modelFor = (keys: readonly string[]): Promise<TempModel> => {
    const names = [...new Set(keys.map(valueOf))];
    const outputs = names.map((name) => declared.get(name) ?? { name, type: { tensorType: { elemType: typeOf(name) } }, metadataProps: [] });
    return saveTempModel({ proto: { ...ctx.state.proto, graph: graphUpTo(graph, outputs) }, dir: ctx.state.dir }, 'gptq', 'gptq-calibration.onnx');
  };
  const calibrator = factory(ctx.state.proto, step.calibration!);
  let group = new Map<string, Float64Array>();
  /** Targets yet to ask for each Hessian. */
  const readers = new Map<string, number>();
  for (const t of targets.values()) readers.set(t.key, (readers.get(t.key) ?? 0) + 1);
  let temp: TempModel | undefined;
  const rowCounts = new Set<number>();
  let runs = 0;
  /** Runs the model for the group of Hessians starting at `key`, dropping the last group first. */
  const gather = async (key: string): Promise<void> => {
    const names: string[] = [];
    let bytes = 0;
    for (let i = values.indexOf(key); i < values.length; i++) {
      const more = sizes.get(values[i])!;
      if (names.length > 0 && bytes + more > budget) break;
      names.push(values[i]);
      bytes += more;
    }
    group = new Map(); // the last group's Hessians go before the next are gathered
    temp?.dispose();
    temp = undefined;
    await ctx.checkpoint();
    temp = await modelFor(names);
    const asked = Object.fromEntries(names.filter((v) => convs[v]).map((v) => [v, convs[v]]));
    // A MatMul's or Gemm's H is made where GPTQ factors it in place.
    const allocate = (name: string, length: number): Float64Array => (convs[name] ? new Float64Array(length) : factorArray(Math.round(Math.sqrt(length))));
    const { hessians, rows } = await calibrator.hessians(temp.file, names, Object.keys(asked).length ? asked : undefined, allocate);
    runs++;
    for (const v of names) rowCounts.add(rows[v]);
    group = new Map(names.map((v) => [v, hessians[v]]));
  };
  return {
    targets,
    skipped,
    async hessian(key) {
      if (!group.has(key)) await gather(key);
      const h = group.get(key)!;
      const left = (readers.get(key) ?? 1) - 1;
      readers.set(key, left);
      if (left > 0) return convs[key] ? Float64Array.from(h) : factorCopy(h, Math.round(Math.sqrt(h.length)));
      group.delete(key);
      return h;
    },
    note: () => `GPTQ calibrated ${plural(values.length, 'layer input')} on ${calibrator.description} (${[...rowCounts].join(', ')} rows each)${runs > 1 ? ` in ${runs} runs of the model` : ''}`,
    dispose: () => {
      group = new Map();
      temp?.dispose();
      temp = undefined;
    },
  };
}

/**
 * GPTQ on the target's W [K, N] (W as stored, transposed for a Gemm with transB); the result is
 * over [K, N]. A MatMul's or Gemm's `hessian` is overwritten (as GptqCalibration.hessian allows).
 */
export async function gptqWeight(
  ctx: TransformContext, step: QuantizeStep, t: GptqTarget, values: Float32Array, hessian: Float64Array,
  dtype: GptqOptions['dtype'], scaleType: FloatSource, valueType: FloatSource,
): Promise<Quantized> {
  const options: GptqOptions = {
    dtype, symmetric: step.symmetric, granularity: t.conv ? convGranularity(t.w, step) : step.granularity === 'block' ? 'block' : 'per-channel', blockSize: step.blockSize,
    damp: step.damp, actOrder: step.actOrder, storeScale: (x) => roundUpTo(scaleType, x), storeValue: (x) => roundTo(valueType, x), checkpoint: ctx.checkpoint,
  };
  if (t.conv) return gptqConv(values, hessian, t.conv, options);
  // The calibration hands each target a Hessian of its own: U takes its place.
  return gptqQuantize(t.transB ? transposed(values, t.n, t.k) : values, t.k, t.n, hessian, { ...options, overwriteHessian: true });
}

/**
 * GPTQ's result laid out for DequantizeLinear over the weight as stored, with the granularity it
 * has: over W [K, N] as is for MatMul ([K, N]; scales per channel on axis 1, blocks on axis 0),
 * transposed for a Gemm with transB ([N, K]; axis 0, blocks on axis 1); a Conv's comes in its
 * stored order [M, C/g, kh, kw] (axis 0, blocks on axis 1).
 */
export function storedLayout(t: GptqTarget, q: Quantized, step: QuantizeStep): { q: Quantized; layout: ScaleLayout; granularity: 'per-channel' | 'block' } {
  const { blockSize } = step;
  if (t.conv) {
    const granularity = convGranularity(t.w, step);
    return { q, granularity, layout: scaleLayout(t.w.tensor.dims, granularity, granularity === 'block' ? 1 : 0, blockSize) };
  }
  const granularity = step.granularity === 'block' ? 'block' : 'per-channel';
  if (!t.transB) return { q, granularity, layout: gptqLayout(t.k, t.n, granularity, blockSize) };
  const groups = granularity === 'block' ? Math.ceil(t.k / blockSize) : 1;
  return {
    granularity,
    q: {
      codes: transposed(q.codes, t.k, t.n), restored: transposed(q.restored, t.k, t.n),
      scales: transposed(q.scales, groups, t.n), zeroPoints: transposed(q.zeroPoints, groups, t.n),
    },
    layout: granularity === 'block' ? scaleLayout([t.n, t.k], 'block', 1, blockSize) : scaleLayout([t.n, t.k], 'per-channel', 0, blockSize),
  };
}
