/**
 * Weight-only quantization. Each weight becomes integer codes plus scales (and zero points when
 * not symmetric around zero) and a DequantizeLinear that outputs the original value name, so
 * every consumer is unchanged. Weights keep their own float type: a FLOAT16 weight gets FLOAT16
 * scales (DequantizeLinear outputs FLOAT16 from opset 19); BFLOAT16 and DOUBLE weights, and
 * FLOAT16 ones whose scales FLOAT16 cannot hold, get FLOAT scales and a Cast back to their type.
 * The float16 target stores FLOAT16 with a Cast back to the original type.
 * Opsets: per-tensor INT8/UINT8 needs 10, per-channel 13, blocks and 4-bit types 21; the
 * model's opset is raised when that is safe, otherwise the layer is skipped with the reason.
 * Codes come from round to nearest, or (method 'gptq') from GPTQ on MatMul, Gemm and Conv weights
 * with their inputs' Hessians from calibration (gptqLayers.ts); both are written the same way.
 */
import { DataType } from '../core/onnx/dataTypes';
import type { AttributeProto, TensorProto } from '../core/onnx/proto';
import type { QuantizeStep } from './recipe';
import { rangeOf, scaleLayout, type Codes, type Quantized, type ScaleLayout } from './quantizeMath';
import { MATMULNBITS_MIN_BLOCK, type Granularity } from '../shared/stepSpec';
import { codeBits, quantizeChoice, scaleType as scaleTypeFor } from '../analyzers/resultBytes';
import { NBITS_DOMAIN, nbitsSource, nbitsTarget, toMatMulNBits, writeMatMulNBits, type NBitsSettings } from './matMulNBits';
import { packQuantizedNBits } from './nbitsPack';
import { isEmbeddingGather, toGatherBlockQuantized } from './gatherBlockQuantized';
import { gptqCalibrate, gptqWeight, storedLayout, type GptqTarget } from './gptqLayers';
import { HALF_DEQUANTIZE_OPSET, outputAs, quantizeAs } from './dequantizeOutput';
import { leaseWeights, type WeightLease } from './wasm/quantizeKernel';
import { int4Tensor, int8Tensor, uint8Tensor } from './tensorBuild';
import { layerWeights, rewritableBlocker, type WeightTarget } from './targets';
import { requantizedNote, weightSource, type WeightScratch, type WeightSource } from './weightSource';
import type { Layer } from '../analyzers/layers';
import type { StoredTensor } from '../core/onnx/modelIndex';
import { intAttr, makeNode } from './weightEdit';
import { defaultOpset } from './opset';
import { planOpsetRaise } from './opsetUpgrade';
import { floatBytes, floatName, nonFiniteReason, floatSourceTensor, roundTo, type FloatSource } from './floatSource';
import { change, errorFromSums, errorOf, notSmaller, skip, type LayerChange, type LayerSkip, type TensorChange, type TransformContext, type TransformOutcome } from './transform';

/** The opset weight-only quantization at this setting needs (the transform raises the model's to it). */
export function opsetNeeded(step: QuantizeStep): number {
  if (step.dtype === 'float16') return 1;
  if (step.dtype === 'int4' || step.dtype === 'uint4' || step.granularity === 'block') return 21;
  return step.granularity === 'per-channel' ? 13 : 10;
}

/** The codes as a tensor (quantizeValues' bytes as they are; GPTQ's Int32Array narrowed). */
function codesTensor(name: string, dims: readonly number[], dtype: QuantizeStep['dtype'], codes: Codes): TensorProto {
  switch (dtype) {
    case 'int8':
      return int8Tensor(name, dims, codes instanceof Int8Array ? codes : Int8Array.from(codes));
    case 'uint8':
      return uint8Tensor(name, dims, codes instanceof Uint8Array ? codes : Uint8Array.from(codes));
    default:
      return int4Tensor(name, dims, codes, dtype === 'uint4');
  }
}

export async function quantizeLayers(ctx: TransformContext, step: QuantizeStep): Promise<TransformOutcome> {
  if (step.format === 'matmulnbits') return quantizeNBits(ctx, step);
  const outcome: TransformOutcome = { changed: [], skipped: [], notes: [] };
  const requantized = new Set<string>();
  const opset = defaultOpset(ctx.state.proto.opsetImport);
  const needed = opsetNeeded(step);
  const raise = planOpsetRaise(ctx.state.index, opset, needed, ctx.names);
  const blocker = raise.blocker;
  // FLOAT16 scales need opset 19, planned only when a FLOAT16 weight is among the targets.
  const hasHalf = step.dtype !== 'float16' && ctx.layers.some((l) => l.weights.some((t) => t.dataType === DataType.Float16 || (l.dequantized?.has(t) && realTypeOf(l, t) === DataType.Float16)));
  const halfRaise = hasHalf && !blocker ? (needed >= HALF_DEQUANTIZE_OPSET ? raise : planOpsetRaise(ctx.state.index, opset, HALF_DEQUANTIZE_OPSET, ctx.names)) : undefined;
  const halfScales = halfRaise !== undefined && !halfRaise.blocker;
  let usedHalfScales = false;
  const gptq = await gptqIfAsked(ctx, step, outcome);
  // Round to nearest is done with a weight's values before it reads the next: they are read into
  // the quantize kernel's leased memory (no copy into the kernel then), else into one array for
  // all (grown at least twofold, so a run of ever larger weights allocates a few times, not each time).
  let scratch = new Float32Array(0);
  let lease: WeightLease | undefined;
  const leaseFor = (n: number): WeightLease | undefined => {
    lease?.release();
    return (lease = leaseWeights(n));
  };
  const lend: WeightScratch = {
    lend: (n) => leaseFor(n)?.values ?? (scratch.length >= n ? scratch : (scratch = new Float32Array(Math.max(n, 2 * scratch.length)))).subarray(0, n),
    // FLOAT16 and BFLOAT16 codes are widened in the kernel's memory, by the kernel.
    widen: (dataType, raw) => leaseFor(raw.length / 2)?.widen(dataType, raw),
  };
  try {
    for (const layer of ctx.layers) {
      await ctx.checkpoint();
      const target = gptq?.targets.get(layer);
      if (gptq && !target) continue;
      const weights = target ? [target.w] : layerWeights(layer);
      if (weights.length === 0) {
        outcome.skipped.push(skip(layer, 'it has no weights of rank 2 or more'));
        continue;
      }
      if (blocker) {
        outcome.skipped.push(skip(layer, `${step.dtype} ${step.granularity} needs opset ${needed}; ${blocker}`));
        continue;
      }
      const reasons: string[] = [];
      const changes: TensorChange[] = [];
      for (const w of weights) {
        const why = rewritableBlocker(w);
        if (why) {
          reasons.push(`'${w.tensor.name}': ${why}`);
          continue;
        }
        if (step.dtype === 'float16' && !w.real && floatBytes(w.tensor.dataType as FloatSource) <= 2) {
          reasons.push(`'${w.tensor.name}': it is ${floatName(w.tensor.dataType as FloatSource)} already`);
          continue;
        }
        const roundToNearest = step.dtype !== 'float16' && !target;
        const source = await weightSource(w, roundToNearest ? lend : undefined);
        // Round to nearest finds NaNs and infinities on its own pass over the weights.
        const bad = roundToNearest ? undefined : nonFiniteReason(source.values);
        if (bad) {
          reasons.push(`'${w.tensor.name}': ${bad}`);
          continue;
        }
        const planned = step.dtype === 'float16' ? toFloat16(ctx, source, w)
          : target ? await toGptq(ctx, source, w, step, halfScales, target, await gptq!.hessian(target.key))
          : toIntegers(ctx, source, w, step, halfScales);
        if ('reason' in planned) {
          reasons.push(`'${w.tensor.name}': ${planned.reason}`);
          continue;
        }
        const c = planned.change;
        if (source.requantizedFrom && c.sqnrDb === null && c.bytesAfter > 0.99 * c.bytesBefore) {
          reasons.push(`'${w.tensor.name}': it is stored as ${source.requantizedFrom} already (the same values would come back)`);
          continue;
        }
        if (planned.change.bytesAfter >= planned.change.bytesBefore) {
          reasons.push(`'${w.tensor.name}': ${notSmaller('it', planned.change.bytesBefore, planned.change.bytesAfter)}`);
          continue;
        }
        planned.commit();
        changes.push(planned.change);
        if (planned.change.detail?.scaleType === 'float16') usedHalfScales = true;
        if (source.requantizedFrom) requantized.add(source.requantizedFrom);
      }
      if (changes.length === 0) {
        outcome.skipped.push(skip(layer, reasons.join('; ')));
        continue;
      }
      outcome.changed.push(change(layer, changes));
    }
  } finally {
    lease?.release();
    gptq?.dispose();
  }
  if (usedHalfScales) halfRaise!.apply(ctx.patch, ctx.names);
  else if (outcome.changed.length) raise.apply(ctx.patch, ctx.names);
  if (requantized.size) outcome.notes!.push(requantizedNote(requantized));
  const note = gptq?.note();
  if (note) outcome.notes!.push(note);
  return outcome;
}

/** GPTQ's codes for one MatMul, Gemm or Conv weight, written as DequantizeLinear like toIntegers'. */
async function toGptq(ctx: TransformContext, src: WeightSource, w: WeightTarget, step: QuantizeStep, halfScales: boolean, t: GptqTarget, hessian: Float64Array): Promise<Planned> {
  const scaleType = scaleTypeFor(src.type, halfScales) as FloatSource;
  const onKN = await gptqWeight(ctx, step, t, src.values, hessian, step.dtype as Exclude<QuantizeStep['dtype'], 'float16'>, scaleType, src.type);
  const { q, layout, granularity } = storedLayout(t, onKN, step);
  return writeIntegers(ctx, src, w, step, layout, granularity, scaleType, q, { method: 'gptq' });
}


/** A computed change, written into the patch only by `commit` (so a change not worth making leaves no trace). */
export interface Planned {
  readonly change: TensorChange;
  commit(): void;
}

/** Round to nearest; a reason instead when a weight is NaN or infinite. */
function toIntegers(ctx: TransformContext, src: WeightSource, w: WeightTarget, step: QuantizeStep, halfScales: boolean): Planned | { reason: string } {
  const dims = w.tensor.dims;
  const source = src.type;
  // Any axis gives a valid model (DequantizeLinear is element-wise); the op's own axes give the
  // best accuracy. Without them (a weight reaching the layer through Slice, Transpose...):
  // scales per leading-axis row, blocks along the last axis, reported as guessed.
  const { granularity, axis } = quantizeChoice(dims, w.role, step.granularity, step.blockSize);
  const layout = scaleLayout(dims, granularity, axis, step.blockSize);
  const scaleType = scaleTypeFor(source, halfScales) as FloatSource;
  const range = rangeOf(step.dtype as Exclude<QuantizeStep['dtype'], 'float16'>);
  const q = quantizeAs(src.values, layout, range, step.symmetric, source, scaleType);
  if (q.nonFinite) return { reason: nonFiniteReason(src.values)! };
  return writeIntegers(ctx, src, w, step, layout, granularity, scaleType, q);
}

/**
 * Writes codes, scales and zero points quantized on `layout` over the weight's stored dims as
 * DequantizeLinear (+ a Cast back to the weight's type when the scales' type differs). The codes
 * come from round to nearest (toIntegers) or GPTQ; `detail` adds to the change's detail.
 */
export function writeIntegers(
  ctx: TransformContext, src: WeightSource, w: WeightTarget, step: QuantizeStep, layout: ScaleLayout, granularity: Granularity,
  scaleType: FloatSource, q: Quantized, detail: Readonly<Record<string, unknown>> = {},
): Planned {
  const dims = w.tensor.dims;
  const source = src.type;
  const base = src.name;
  const stored: TensorProto[] = [
    codesTensor(ctx.names.fresh(`${base}_quantized`), dims, step.dtype, q.codes),
    floatSourceTensor(ctx.names.fresh(`${base}_scale`), scaleType, layout.scaleDims, q.scales),
  ];
  // Signed symmetric codes are centred on 0, DequantizeLinear's default zero point.
  const needsZero = !(step.symmetric && (step.dtype === 'int8' || step.dtype === 'int4'));
  if (needsZero) stored.push(codesTensor(ctx.names.fresh(`${base}_zero_point`), layout.scaleDims, step.dtype, q.zeroPoints));
  const attributes: Partial<AttributeProto>[] = [];
  if (layout.axis !== undefined) attributes.push(intAttr('axis', layout.axis));
  if (layout.blockSize !== undefined) attributes.push(intAttr('block_size', layout.blockSize));
  const nodes = outputAs(ctx.names, src.name, source, scaleType, (out) =>
    makeNode('DequantizeLinear', stored.map((s) => s.name ?? ''), [out], ctx.names.fresh(`${base}_DequantizeLinear`), attributes));
  const bytesAfter = stored.reduce((n, s) => n + (s.rawData?.length ?? 0), 0);
  return { commit: () => src.replace(ctx.patch, stored, nodes), change: {
    tensor: src.name,
    bytesBefore: src.bytesBefore,
    bytesAfter,
    ...(q.sums ? errorFromSums(q.sums) : errorOf(src.values, q.restored)),
    detail: {
      dtype: step.dtype, granularity: layout.axis === undefined ? 'per-tensor' : granularity, axis: layout.axis ?? null,
      axisGuessed: layout.axis !== undefined && !w.role, scales: layout.groups, source: floatName(source), scaleType: floatName(scaleType),
      ...(src.requantizedFrom ? { requantizedFrom: src.requantizedFrom } : {}), ...detail,
    },
  } };
}

function toFloat16(ctx: TransformContext, src: WeightSource, w: WeightTarget): Planned {
  const { values, name } = src;
  const half = floatSourceTensor(ctx.names.fresh(`${name}_fp16`), DataType.Float16, w.tensor.dims, values);
  const nodes = src.type === DataType.Float16 ? [makeNode('Identity', [half.name ?? ''], [name], ctx.names.fresh(`${name}_Identity`))]
    : [makeNode('Cast', [half.name ?? ''], [name], ctx.names.fresh(`${name}_Cast`), [intAttr('to', src.type)])];
  const restored = Float32Array.from(values, (v) => roundTo(DataType.Float16, v));
  return {
    commit: () => src.replace(ctx.patch, [half], nodes),
    change: { tensor: name, bytesBefore: src.bytesBefore, bytesAfter: half.rawData?.length ?? 0, ...errorOf(values, restored), detail: { dtype: 'float16', source: floatName(src.type) } },
  };
}

/** The type of an already-quantized weight's real values (its scale's or codebook's; a masked weight's values'). */
function realTypeOf(layer: Layer, t: StoredTensor): number | undefined {
  const d = layer.dequantized?.get(t);
  if (d?.kind === 'masked') return (d.codebook ?? d.values).dataType;
  return d?.kind === 'codebook' ? d.codebook.dataType : d?.scale.dataType;
}

/** Every selected MatMul/Gemm to MatMulNBits and embedding Gather to GatherBlockQuantized; the com.microsoft opset is added when one changed. */
async function quantizeNBits(ctx: TransformContext, step: QuantizeStep): Promise<TransformOutcome> {
  const outcome: TransformOutcome = { changed: [], skipped: [], notes: [] };
  const settings = { bits: codeBits(step.dtype) as 4 | 8, blockSize: step.blockSize, symmetric: step.symmetric, accuracyLevel: step.accuracyLevel ?? 4 };
  if (settings.blockSize < MATMULNBITS_MIN_BLOCK) {
    return { ...outcome, skipped: ctx.layers.map((l) => skip(l, `MatMulNBits blocks are ${MATMULNBITS_MIN_BLOCK} or more weights, not ${settings.blockSize}`)) };
  }
  // Embeddings take indices, so they have no Hessian: round to nearest, with GPTQ or without.
  const gptq = await gptqIfAsked({ ...ctx, layers: ctx.layers.filter((l) => !isEmbeddingGather(l.node.node)) }, step, outcome);
  try {
    for (const layer of ctx.layers) {
      await ctx.checkpoint();
      const embedding = isEmbeddingGather(layer.node.node);
      const target = gptq?.targets.get(layer);
      if (gptq && !target && !embedding) continue;
      const r = embedding ? await toGatherBlockQuantized(ctx, layer, settings) : target ? await gptqNBits(ctx, layer, step, settings, target, await gptq!.hessian(target.key)) : await toMatMulNBits(ctx, layer, settings);
      if ('reason' in r) outcome.skipped.push(r);
      else outcome.changed.push(r);
    }
  } finally {
    gptq?.dispose();
  }
  if (outcome.changed.length) ctx.patch.requireOpset(NBITS_DOMAIN, 1);
  const note = gptq?.note();
  if (note) outcome.notes!.push(note);
  return outcome;
}

/** GPTQ's unsigned block codes for one MatMul or Gemm weight, written as MatMulNBits like toMatMulNBits'. */
async function gptqNBits(ctx: TransformContext, layer: Layer, step: QuantizeStep, s: NBitsSettings, g: GptqTarget, hessian: Float64Array): Promise<LayerChange | LayerSkip> {
  const t = nbitsTarget(ctx, layer);
  if ('reason' in t) return t;
  const source = await nbitsSource(layer, t);
  if ('reason' in source) return source;
  const { src, computeType } = source;
  const q = await gptqWeight(ctx, { ...step, granularity: 'block' }, g, src.values, hessian, s.bits === 4 ? 'uint4' : 'uint8', computeType, computeType);
  const packed = packQuantizedNBits(q, t.k, t.n, s.bits, s.blockSize, s.symmetric);
  return writeMatMulNBits(ctx, layer, t, src, computeType, packed, s, { method: 'gptq' });
}

/** GPTQ's Hessians and targets when the step asks for GPTQ (the layers it cannot take are skipped into the outcome). */
async function gptqIfAsked(ctx: TransformContext, step: QuantizeStep, outcome: TransformOutcome): Promise<Awaited<ReturnType<typeof gptqCalibrate>> | undefined> {
  if (step.method !== 'gptq') return undefined;
  const gptq = await gptqCalibrate(ctx, step);
  outcome.skipped.push(...gptq.skipped);
  return gptq;
}
