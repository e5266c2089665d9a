/**
 * The bytes a transform's output takes, from shapes and types alone: one home for the transforms
 * (which build exactly these tensors), the editor's preview and the analysis's size estimates,
 * so a figure shown before Apply is the figure Apply gets.
 */
import { DataType } from '../core/onnx/dataTypes';
import type { WeightRole } from './weightRole';

export type ScaleGranularity = 'per-tensor' | 'per-channel' | 'block';

export interface QuantizeChoice {
  readonly granularity: ScaleGranularity;
  /** The scales' axis (none per tensor). */
  readonly axis?: number;
  /** True when the op's own axes are unknown and the axis is the leading (channels) or last (blocks) one. */
  readonly guessed: boolean;
}

/**
 * How a weight's scales run: along the op's channel axis, or in blocks along its reduction
 * axis. A reduction axis shorter than a block (depthwise Conv: 1) would get a scale per weight:
 * blocks then become one scale per output channel.
 */
export function quantizeChoice(dims: readonly number[], role: WeightRole | undefined, granularity: ScaleGranularity, blockSize: number): QuantizeChoice {
  const r = role ?? { channelAxis: 0, reductionAxis: dims.length - 1 };
  const g = granularity === 'block' && dims[r.reductionAxis] < blockSize ? 'per-channel' : granularity;
  if (g === 'per-tensor') return { granularity: g, guessed: false };
  return { granularity: g, axis: g === 'block' ? r.reductionAxis : r.channelAxis, guessed: !role };
}

/** The scale tensor's dims and element count. */
export function scaleShape(dims: readonly number[], granularity: ScaleGranularity, axis: number | undefined, blockSize: number): { dims: number[]; groups: number } {
  if (granularity === 'per-tensor' || axis === undefined) return { dims: [], groups: 1 };
  if (granularity === 'per-channel') return { dims: [dims[axis]], groups: dims[axis] };
  const scaleDims = dims.map((d, i) => (i === axis ? Math.ceil(d / blockSize) : d));
  return { dims: scaleDims, groups: scaleDims.reduce((a, b) => a * b, 1) };
}

export interface QuantizeParams {
  readonly dtype: string;
  readonly granularity: ScaleGranularity;
  readonly blockSize: number;
  readonly symmetric: boolean;
}

/** Element width in bits of a quantized type. */
export function codeBits(dtype: string): number {
  return dtype === 'int4' || dtype === 'uint4' ? 4 : 8;
}

/** The type the scales are stored in: the weight's own FLOAT16 when DequantizeLinear can output it, else FLOAT. */
export function scaleType(sourceType: number, halfScales: boolean): number {
  return sourceType === DataType.Float16 && halfScales ? DataType.Float16 : DataType.Float;
}

/** Codes + scales (+ zero points unless signed symmetric): what weight-only quantization stores. */
export function quantizedBytes(dims: readonly number[], sourceType: number, role: WeightRole | undefined, q: QuantizeParams, halfScales: boolean): number {
  const n = dims.reduce((a, b) => a * b, 1);
  const bits = codeBits(q.dtype);
  const c = quantizeChoice(dims, role, q.granularity, q.blockSize);
  const { groups } = scaleShape(dims, c.granularity, c.axis, q.blockSize);
  const scaleWidth = scaleType(sourceType, halfScales) === DataType.Float16 ? 2 : 4;
  const zeroPoints = q.symmetric && (q.dtype === 'int8' || q.dtype === 'int4') ? 0 : Math.ceil((groups * bits) / 8);
  return Math.ceil((n * bits) / 8) + groups * scaleWidth + zeroPoints;
}

/** A codebook of `entries` values of `valueWidth` bytes and an index per weight (4 bits when `nibbles`). */
export function clusteredBytes(elements: number, entries: number, valueWidth: number, nibbles: boolean): number {
  return entries * valueWidth + (nibbles ? Math.ceil(elements / 2) : elements);
}

/**
 * Masked storage of a weight with `nonZeros` non-zero values of `width` bytes: the bit mask, the
 * non-zeros after one leading zero, and the rebuild chain's small constants (as maskedStorage writes them).
 */
export function maskedBytes(dims: readonly number[], nonZeros: number, width: number): number {
  return maskChainBytes(dims) + (nonZeros + 1) * width;
}

/** The mask and the chain's constants: column shape, shifts, 2, flat length, axis, dims, and a Slice's bounds when n is not a multiple of 8. */
export function maskChainBytes(dims: readonly number[]): number {
  const n = dims.reduce((a, b) => a * b, 1);
  const m = Math.ceil(n / 8);
  return m + 16 + 8 + 1 + 8 + 8 + 8 * dims.length + (8 * m !== n ? 16 : 0);
}

/** Masked cluster indices: the chain, and one index per non-zero weight after the zero's (4 bits when `nibbles`). */
export function maskedCodeBytes(dims: readonly number[], nonZeros: number, nibbles: boolean): number {
  return maskChainBytes(dims) + (nibbles ? Math.ceil((nonZeros + 1) / 2) : nonZeros + 1);
}

/** MatMulNBits: packed codes per (output, block), a scale each, packed zero points unless symmetric. */
export function nbitsBytes(k: number, n: number, bits: number, blockSize: number, symmetric: boolean, scaleWidth: number): number {
  const blocks = Math.ceil(k / blockSize);
  const zeroPoints = symmetric ? 0 : n * Math.ceil((blocks * bits) / 8);
  return n * blocks * ((blockSize * bits) / 8) + n * blocks * scaleWidth + zeroPoints;
}
