/**
 * Where DequantizeLinear's output ends up in a weight's own float type: FLOAT16 scales make
 * DequantizeLinear output FLOAT16 directly (opset 19+); other types (BFLOAT16, DOUBLE, which
 * onnxruntime's CPU kernels do not dequantize to) get FLOAT scales and a Cast to the weight's type.
 */
import type { NodeProto } from '../core/onnx/proto';
import { quantizeValues, type QuantRange, type Quantized, type ScaleLayout } from './quantizeMath';
import { floatName, rounderTo, roundUpTo, type FloatSource } from './floatSource';
import { intAttr, makeNode } from './weightEdit';
import type { NameAllocator } from './names';

/** The first opset whose DequantizeLinear outputs FLOAT16 (scales of the output's type). */
export const HALF_DEQUANTIZE_OPSET = 19;

/**
 * Quantizes with scales stored as `scaleType` and restored values rounded to the weight's type.
 * FLOAT16 scales are rounded up, never down, so no code is clipped; a FLOAT16 weight is a multiple
 * of 2^-24 anyway, so a scale that small (FLOAT16's least subnormal) still resolves it.
 */
export function quantizeAs(values: Float32Array, layout: ScaleLayout, range: QuantRange, symmetric: boolean, source: FloatSource, scaleType: FloatSource): Quantized {
  return quantizeValues(values, layout, range, symmetric, (x) => roundUpTo(scaleType, x), rounderTo(source));
}

/**
 * The node computing a value of type `producedType` (via `make(outputName)`), followed when the
 * weight's own type differs by a Cast to it, so the weight's value name keeps its type.
 */
export function outputAs(names: NameAllocator, name: string, source: FloatSource, producedType: FloatSource, make: (out: string) => NodeProto): NodeProto[] {
  if (producedType === source) return [make(name)];
  const wide = names.fresh(`${name}_${floatName(producedType)}`);
  return [make(wide), makeNode('Cast', [wide], [name], names.fresh(`${name}_Cast`), [intAttr('to', source)])];
}

