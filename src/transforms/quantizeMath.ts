/**
 * Weight quantization arithmetic, as ONNX's QuantizeLinear and DequantizeLinear define it:
 * q = saturate(round_half_to_even(x / S) + Z), x' = S · (q − Z), with one (S, Z) per tensor,
 * per output channel, or per block of the reduction axis.
 */
import { roundHalfEven } from '../analyzers/quantize';
import type { Granularity, QuantDType } from '../shared/stepSpec';
import { scaleShape } from '../analyzers/resultBytes';
import { kernelQuantize, quantizeKernelAvailable, type GroupGeometry, type KernelRounding } from './wasm/quantizeKernel';
import { roundToBrain, roundToHalf } from './floatSource';
import type { ErrorSums } from './transform';

export interface QuantRange {
  readonly qmin: number;
  readonly qmax: number;
  /** Zero point of a symmetric scheme (0 for signed, the midpoint for unsigned). */
  readonly symmetricZero: number;
  /** Largest code magnitude a symmetric scheme uses around its zero point. */
  readonly symmetricMax: number;
}

export function rangeOf(dtype: Exclude<QuantDType, 'float16'>): QuantRange {
  switch (dtype) {
    case 'int8':
      return { qmin: -128, qmax: 127, symmetricZero: 0, symmetricMax: 127 };
    case 'uint8':
      return { qmin: 0, qmax: 255, symmetricZero: 128, symmetricMax: 127 };
    case 'int4':
      return { qmin: -8, qmax: 7, symmetricZero: 0, symmetricMax: 7 };
    case 'uint4':
      return { qmin: 0, qmax: 15, symmetricZero: 8, symmetricMax: 7 };
  }
}

/** How weights map to scales: the scale tensor's dims and, for each weight, its scale's index. */
export interface ScaleLayout {
  readonly scaleDims: readonly number[];
  readonly groups: number;
  /** DequantizeLinear's axis attribute (absent for per-tensor). */
  readonly axis?: number;
  readonly blockSize?: number;
  /** The scale index of every weight, in weight order. */
  groupIndices(elements: number): Int32Array;
  /** The same mapping as the WebAssembly kernel walks it. */
  readonly geometry: GroupGeometry;
}

export function scaleLayout(dims: readonly number[], granularity: Granularity, axis: number | undefined, blockSize: number): ScaleLayout {
  if (granularity === 'per-tensor' || axis === undefined) {
    return { scaleDims: [], groups: 1, groupIndices: (n) => new Int32Array(n), geometry: { granularity: 'per-tensor', size: 1, inner: 1, blockSize: 0 } };
  }
  const size = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  // Weights as [outer, size, inner]: channel or block index from the middle coordinate.
  const indices = (n: number, groupsAlong: number, groupOf: (d: number) => number): Int32Array => {
    const out = new Int32Array(n);
    const outer = n / (size * inner);
    let at = 0;
    for (let o = 0; o < outer; o++) {
      for (let d = 0; d < size; d++) {
        const g = groupOf(d);
        const base = granularity === 'block' ? (o * groupsAlong + g) * inner : g;
        for (let j = 0; j < inner; j++) out[at++] = granularity === 'block' ? base + j : base;
      }
    }
    return out;
  };
  const shape = scaleShape(dims, granularity, axis, blockSize);
  if (granularity === 'per-channel') {
    return { scaleDims: shape.dims, groups: shape.groups, axis, groupIndices: (n) => indices(n, size, (d) => d), geometry: { granularity, size, inner, blockSize: 0 } };
  }
  const blocks = Math.ceil(size / blockSize);
  return {
    scaleDims: shape.dims,
    groups: shape.groups,
    axis,
    blockSize,
    groupIndices: (n) => indices(n, blocks, (d) => Math.floor(d / blockSize)),
    geometry: { granularity, size, inner, blockSize },
  };
}

const ROUNDER = 6755399441055744;

/** The code of `v` with scale `s` and zero point `z`: round(v / S) + Z, saturated. */
export function codeOf(v: number, s: number, z: number, qmin: number, qmax: number): number {
  // Adding and subtracting 1.5·2^52 rounds a double to an integer, half to even (|x| < 2^51).
  const q = Math.fround(v / s) + ROUNDER - ROUNDER + z;
  return q < qmin ? qmin : q > qmax ? qmax : q;
}

/**
 * Scale and zero point of each group from its range [lo ≤ 0 ≤ hi], written to `scales` and
 * `zeroPoints` (GPTQ fits groups from weights it has already changed, so this stands apart).
 */
export function fitGroups(
  lo: Float64Array, hi: Float64Array, range: QuantRange, symmetric: boolean,
  storeScale: (s: number) => number, scales: Float32Array, zeroPoints: Int32Array,
): void {
  for (let g = 0; g < lo.length; g++) {
    if (symmetric) {
      const absMax = Math.max(-lo[g], hi[g]);
      scales[g] = absMax > 0 ? storeScale(absMax / range.symmetricMax) : 1;
      zeroPoints[g] = range.symmetricZero;
    } else {
      const span = hi[g] - lo[g];
      scales[g] = span > 0 ? storeScale(span / (range.qmax - range.qmin)) : 1;
      const z = roundHalfEven(range.qmin - lo[g] / scales[g]);
      zeroPoints[g] = Math.min(range.qmax, Math.max(range.qmin, z));
    }
  }
}

/** A weight's codes: a byte each from quantizeValues (Int8Array for a signed range, Uint8Array otherwise), Int32Array from GPTQ. */
export type Codes = Int8Array | Uint8Array | Int32Array;

export interface Quantized {
  /** Codes, one per weight, in the range of the data type. */
  readonly codes: Codes;
  readonly scales: Float32Array;
  readonly zeroPoints: Int32Array;
  /** The weights as DequantizeLinear will give them back. */
  readonly restored: Float32Array;
  /** The change's error figures, when the WebAssembly kernel computed them on the way. */
  readonly sums?: ErrorSums;
  /** True when a value is NaN or infinite (the codes then mean nothing); quantizeValues sees it on its way through. */
  readonly nonFinite?: boolean;
}

/** GPTQ's result: its codes are Int32Array. */
export type WideQuantized = Quantized & { readonly codes: Int32Array };

/** The values DequantizeLinear gives back: (q − Z) · S, one float32 rounding, then `storeValue`'s, as quantizeValues computes them. */
function restoredFrom(codes: Codes, scales: Float32Array, zeroPoints: Int32Array, layout: ScaleLayout, storeValue: (v: number) => number): Float32Array {
  const groupIndex = layout.groupIndices(codes.length);
  const restored = new Float32Array(codes.length);
  for (let i = 0; i < codes.length; i++) {
    const g = groupIndex[i];
    restored[i] = storeValue(Math.fround((codes[i] - zeroPoints[g]) * scales[g]));
  }
  return restored;
}

/** The kernel's rounding of restored values for a `storeValue` (it knows floatSource's three), or undefined. */
function kernelRounding(storeValue: (v: number) => number): KernelRounding | undefined {
  return storeValue === Math.fround ? 'float32' : storeValue === roundToHalf ? 'float16' : storeValue === roundToBrain ? 'bfloat16' : undefined;
}

/** Below this many weights the JavaScript is as quick as copying into the kernel. */
const KERNEL_MIN_WEIGHTS = 256;

/**
 * Codes, scales and zero points for `values`. `storeScale` rounds each scale to the type it is
 * stored in (FLOAT16 scales), and `storeValue` each restored value to the type
 * DequantizeLinear's output ends in, so `restored` is what the saved model computes.
 */
export function quantizeValues(
  values: Float32Array,
  layout: ScaleLayout,
  range: QuantRange,
  symmetric: boolean,
  storeScale: (s: number) => number = Math.fround,
  storeValue: (v: number) => number = Math.fround,
): Quantized {
  const rounding = kernelRounding(storeValue);
  if (rounding && values.length >= KERNEL_MIN_WEIGHTS && quantizeKernelAvailable()) {
    const k = kernelQuantize(values, layout.groups, layout.geometry, range.qmin, range.qmax, rounding, ({ lo, hi }) => {
      const scales = new Float32Array(layout.groups);
      const zeroPoints = new Int32Array(layout.groups);
      fitGroups(lo, hi, range, symmetric, storeScale, scales, zeroPoints);
      const restored = (x: number, g: number): number => storeValue(Math.fround((codeOf(x, scales[g], zeroPoints[g], range.qmin, range.qmax) - zeroPoints[g]) * scales[g]));
      return { scales, zeroPoints, restored };
    });
    // Undefined: a NaN or an infinity among the weights, which the JavaScript below quantizes and
    // reports, or among the restored values (FLOAT16 past 65504), whose figures it works out.
    if (k) {
      const { codes, scales, zeroPoints, ...sums } = k;
      // The sums stand in for the restored values where the error is all that is wanted: made on first use.
      let restored: Float32Array | undefined;
      return { codes, scales, zeroPoints, sums, get restored() { return (restored ??= restoredFrom(codes, scales, zeroPoints, layout, storeValue)); } };
    }
  }
  const groupIndex = layout.groupIndices(values.length);
  const lo = new Float64Array(layout.groups);
  const hi = new Float64Array(layout.groups);
  let nonFinite = false;
  for (let i = 0; i < values.length; i++) {
    const g = groupIndex[i];
    const v = values[i];
    if (v < lo[g]) lo[g] = v; // lo ≤ 0 ≤ hi: zero must be exactly representable
    if (v > hi[g]) hi[g] = v;
    if (v - v !== 0) nonFinite = true;
  }
  const scales = new Float32Array(layout.groups);
  const zeroPoints = new Int32Array(layout.groups);
  fitGroups(lo, hi, range, symmetric, storeScale, scales, zeroPoints);
  const codes = range.qmin < 0 ? new Int8Array(values.length) : new Uint8Array(values.length);
  const restored = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const g = groupIndex[i];
    const s = scales[g];
    const z = zeroPoints[g];
    const q = codeOf(values[i], s, z, range.qmin, range.qmax);
    codes[i] = q;
    restored[i] = storeValue(Math.fround((q - z) * s));
  }
  return nonFinite ? { codes, scales, zeroPoints, restored, nonFinite } : { codes, scales, zeroPoints, restored };
}
