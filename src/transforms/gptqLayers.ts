/**
 * GPTQ as a quantize method: the inputs of every target MatMul and Gemm are exposed as model
 * outputs, the model runs once over the calibration data (onnxruntime, through the Calibrator the
 * caller provides) gathering each input's Hessian, and each weight W [K, N] is then quantized by
 * gptqQuantize on it. The codes are written like round to nearest's: DequantizeLinear
 * (quantize.ts' writeIntegers) or MatMulNBits (matMulNBits.ts' writeMatMulNBits).
 */
import { transposed } from '../core/transpose';
import { DataType, dataTypeName } from '../core/onnx/dataTypes';
import { saveTempModel } from '../core/onnx/tempModel';
import type { NodeProto } from '../core/onnx/proto';
import type { Layer } from '../analyzers/layers';
import type { QuantizeStep } from './recipe';
import { gptqLayout, gptqQuantize, type GptqOptions } from './gptq';
import { scaleLayout, type Quantized, type ScaleLayout } from './quantizeMath';
import { roundTo, roundUpTo, type FloatSource } from './floatSource';
import { elemTypes } from './valueTypes';
import { layerWeights, type WeightTarget } from './targets';
import { skip, type LayerSkip, type TransformContext } from './transform';

/** The largest K whose Hessian is gathered (K² doubles per input; the onnxruntime runner refuses more). */
export const GPTQ_MAX_K = 4096;

export const CONV_REASON = 'GPTQ here reconstructs MatMul and Gemm layers; use RTN for Conv';

/** A layer GPTQ can quantize: its weight (operand 1), W's shape [K, N], and the input whose Hessian it needs. */
export interface GptqTarget {
  readonly w: WeightTarget;
  readonly k: number;
  readonly n: number;
  readonly transB: boolean;
  readonly input: string;
}

/** The Hessians by input value, or why every layer is skipped. */
export interface GptqCalibration {
  readonly targets: Map<Layer, GptqTarget>;
  readonly hessians: Map<string, Float64Array>;
  readonly skipped: LayerSkip[];
  readonly note?: string;
}

const attr = (n: NodeProto, name: string): number | undefined => {
  const a = n.attribute.find((x) => x.name === name);
  return a?.i !== undefined ? Number(a.i) : a?.f;
};

function targetOf(layer: Layer, typeOf: (v: string) => number, stored: ReadonlySet<string>): GptqTarget | string {
  const node = layer.node.node;
  const op = node.opType ?? '';
  if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') return `${node.domain}.${op} is not reconstructed by GPTQ`;
  if (op !== 'MatMul' && op !== 'Gemm') return op === 'Conv' ? CONV_REASON : `GPTQ here reconstructs MatMul and Gemm layers, not ${op}`;
  if (layer.node.graph.kind !== 'main') return 'it is inside a subgraph (its input cannot be exposed for calibration)';
  const w = layerWeights(layer).find((x) => x.operand === 1);
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
  return { w, k, n, transB, input };
}

/**
 * Picks the layers GPTQ can quantize and gathers their inputs' Hessians in one run of the model;
 * without a calibrator every layer is skipped with the reason.
 */
export async function gptqCalibrate(ctx: TransformContext, step: QuantizeStep): Promise<GptqCalibration> {
  const targets = new Map<Layer, GptqTarget>();
  const skipped: LayerSkip[] = [];
  const factory = ctx.services?.calibrator;
  if (!factory) {
    return { targets, hessians: new Map(), skipped: ctx.layers.map((l) => skip(l, 'GPTQ needs onnxruntime to calibrate, and none was provided')) };
  }
  const main = ctx.state.index.graphs.find((g) => g.kind === 'main')!;
  const types = elemTypes(ctx.state.index);
  const typeOf = (v: string): number => types(v, main);
  const stored = new Set(ctx.state.index.tensors.filter((t) => t.isValue && t.graph.kind === 'main').map((t) => t.name));
  for (const layer of ctx.layers) {
    const t = targetOf(layer, typeOf, stored);
    if (typeof t === 'string') skipped.push(skip(layer, t));
    else targets.set(layer, t);
  }
  if (targets.size === 0) return { targets, hessians: new Map(), skipped };
  const values = [...new Set([...targets.values()].map((t) => t.input))];
  const graph = ctx.state.proto.graph!;
  const declared = new Set(graph.output.map((o) => o.name));
  const exposed = values.filter((v) => !declared.has(v)).map((name) => ({ name, type: { tensorType: { elemType: typeOf(name) } }, metadataProps: [] }));
  const { file, dispose } = await saveTempModel({ proto: { ...ctx.state.proto, graph: { ...graph, output: [...graph.output, ...exposed] } }, dir: ctx.state.dir }, 'gptq', 'gptq-calibration.onnx');
  try {
    const calibrator = factory(ctx.state.proto, step.calibration!);
    await ctx.checkpoint();
    const { hessians, rows } = await calibrator.hessians(file, values);
    const counts = [...new Set(values.map((v) => rows[v]))];
    const note = `GPTQ calibrated ${values.length} layer input(s) on ${calibrator.description} (${counts.join(', ')} rows each)`;
    return { targets, hessians: new Map(values.map((v) => [v, hessians[v]])), skipped, note };
  } finally {
    dispose();
  }
}

/** GPTQ on the target's W [K, N] (W as stored, transposed for a Gemm with transB); the result is over [K, N]. */
export async function gptqWeight(
  ctx: TransformContext, step: QuantizeStep, t: GptqTarget, values: Float32Array, hessian: Float64Array,
  dtype: GptqOptions['dtype'], scaleType: FloatSource, valueType: FloatSource,
): Promise<Quantized> {
  const w = t.transB ? transposed(values, t.n, t.k) : values;
  return gptqQuantize(w, t.k, t.n, hessian, {
    dtype, symmetric: step.symmetric, granularity: step.granularity === 'block' ? 'block' : 'per-channel', blockSize: step.blockSize,
    damp: step.damp, actOrder: step.actOrder, storeScale: (x) => roundUpTo(scaleType, x), storeValue: (x) => roundTo(valueType, x), checkpoint: ctx.checkpoint,
  });
}

/**
 * GPTQ's result over W [K, N] laid out for DequantizeLinear over the weight as stored: as is for
 * MatMul ([K, N]; scales per channel on axis 1, blocks on axis 0), transposed for a Gemm with
 * transB ([N, K]; axis 0, blocks on axis 1).
 */
export function storedLayout(t: GptqTarget, q: Quantized, granularity: 'per-channel' | 'block', blockSize: number): { q: Quantized; layout: ScaleLayout } {
  if (!t.transB) return { q, layout: gptqLayout(t.k, t.n, granularity, blockSize) };
  const groups = granularity === 'block' ? Math.ceil(t.k / blockSize) : 1;
  return {
    q: {
      codes: transposed(q.codes, t.k, t.n), restored: transposed(q.restored, t.k, t.n),
      scales: transposed(q.scales, groups, t.n), zeroPoints: transposed(q.zeroPoints, groups, t.n),
    },
    layout: granularity === 'block' ? scaleLayout([t.n, t.k], 'block', 1, blockSize) : scaleLayout([t.n, t.k], 'per-channel', 0, blockSize),
  };
}
