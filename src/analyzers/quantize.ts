/**
 * Symmetric weight quantization as ONNX QuantizeLinear/DequantizeLinear compute it:
 * q = saturate(round_half_to_even(x / S)), r = S·q, with S = max|x| / qmax per tensor or per
 * channel. Used to measure what INT8/INT4 would cost (SQNR, max error) by actually doing it.
 */

export interface QuantScheme {
  readonly bits: 8 | 4;
  /** Largest code magnitude: 127 for INT8, 7 for INT4 (symmetric, so -qmax..qmax). */
  readonly qmax: number;
}

export const INT8: QuantScheme = { bits: 8, qmax: 127 };
export const INT4: QuantScheme = { bits: 4, qmax: 7 };

/** Round half to even, as ONNX QuantizeLinear specifies (and numpy.round does). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  // Math.round rounds .5 up; pull exact halves at odd results back to even.
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

export function scaleFor(absMax: number, scheme: QuantScheme): number {
  // An all-zero channel quantizes exactly with any scale; 1 keeps the arithmetic finite.
  return absMax > 0 ? Math.fround(absMax / scheme.qmax) : 1;
}

/** The code for x: round-half-even of x / scale, saturated to ±qmax. */
export function quantizeValue(x: number, scale: number, scheme: QuantScheme): number {
  const q = roundHalfEven(Math.fround(x / scale));
  return q > scheme.qmax ? scheme.qmax : q < -scheme.qmax ? -scheme.qmax : q;
}

/** Signal-to-quantization-noise ratio in dB; Infinity when the reconstruction is exact. */
export function sqnrDb(signalEnergy: number, noiseEnergy: number): number {
  if (noiseEnergy === 0) return Infinity;
  if (signalEnergy === 0) return -Infinity;
  return 10 * Math.log10(signalEnergy / noiseEnergy);
}

/** Accumulates the error of quantizing a stream of values with given per-channel scales. */
export class QuantErrorMeter {
  noiseEnergy = 0;
  maxAbsError = 0;

  constructor(readonly scheme: QuantScheme) {}

  add(x: number, scale: number): number {
    const q = quantizeValue(x, scale, this.scheme);
    const err = x - Math.fround(q * scale);
    this.noiseEnergy += err * err;
    const a = Math.abs(err);
    if (a > this.maxAbsError) this.maxAbsError = a;
    return q;
  }
}

/**
 * Asymmetric (UINT8/UINT4) per-tensor quantization, as the quantize transform does it: the range
 * [min, max] widened to contain 0 spread over every code, with a zero point.
 */
export class AsymmetricMeter {
  noiseEnergy = 0;
  readonly scale: number;
  readonly zero: number;

  constructor(min: number, max: number, private readonly qmax: number) {
    const lo = Math.min(min, 0);
    const span = Math.max(max, 0) - lo;
    this.scale = span > 0 ? Math.fround(span / qmax) : 1;
    this.zero = Math.min(qmax, Math.max(0, roundHalfEven(-lo / this.scale)));
  }

  add(x: number): void {
    let q = roundHalfEven(Math.fround(x / this.scale)) + this.zero;
    q = q < 0 ? 0 : q > this.qmax ? this.qmax : q;
    const err = x - Math.fround((q - this.zero) * this.scale);
    this.noiseEnergy += err * err;
  }
}
