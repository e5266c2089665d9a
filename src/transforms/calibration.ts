/**
 * Activation ranges for static quantization, from statistics the onnxruntime process collects:
 * min/max (MinMax), a symmetric percentile of |x| (Percentile), or the threshold that minimizes
 * the KL divergence between the |x| histogram and its 128-level quantization (Entropy, as in
 * TensorRT's calibrator). The range always contains zero, so zero is exactly representable.
 */
import type { CalibrationMethod } from '../shared/stepSpec';
import type { ConvGeometry } from './convHessian';

/** A Conv's input whose Hessian is asked for: the value to read and the Conv's geometry. */
export interface ConvInput {
  readonly value: string;
  readonly geometry: ConvGeometry;
}

export interface CalibrationOptions {
  readonly method: CalibrationMethod;
  /** Percent of |x| kept by the percentile method (e.g. 99.99). */
  readonly percentile: number;
}

/** Collects statistics of model values by running the model; provided by the caller (a child process). */
export interface Calibrator {
  /** Runs `modelFile` on the calibration inputs; `histograms` asks for |x| histograms over [0, max] by value name. */
  collect(modelFile: string, values: readonly string[], histograms?: Readonly<Record<string, number>>): Promise<Record<string, ValueStats>>;
  /**
   * Runs `modelFile` on the calibration inputs and returns, per value (float, last axis K), the
   * Hessian H = 2·XᵀX / rows [K, K] over every row of it, with the number of rows; a name in
   * `convs` is a Conv's input, its Hessians over im2col rows [group, K, K] (convHessian.ts). The
   * arrays come from `allocate` when given.
   */
  hessians(
    modelFile: string, values: readonly string[], convs?: Readonly<Record<string, ConvInput>>, allocate?: (name: string, length: number) => Float64Array,
  ): Promise<{ hessians: Record<string, Float64Array>; rows: Record<string, number> }>;
  /** How the inputs were obtained, for reports. */
  readonly description: string;
}

/** What the onnxruntime process reports of one value over the calibration inputs. */
export interface ValueStats {
  min: number;
  max: number;
  /** Histogram of |x| over [0, histogramMax] (second calibration pass only). */
  histogram?: Float64Array;
  histogramMax?: number;
}

/** Bins of the |x| histograms, unless a request asks for another number. */
export const HISTOGRAM_BINS = 2048;

export function needsHistograms(options: CalibrationOptions): boolean {
  return options.method !== 'minmax';
}

/** The threshold below which `percentile`% of the histogram's mass lies. */
export function percentileThreshold(histogram: Float64Array, histogramMax: number, percentile: number): number {
  let total = 0;
  for (const c of histogram) total += c;
  const target = (total * percentile) / 100;
  let acc = 0;
  for (let i = 0; i < histogram.length; i++) {
    acc += histogram[i];
    if (acc >= target) return ((i + 1) * histogramMax) / histogram.length;
  }
  return histogramMax;
}

/** Spreads a little mass onto empty bins so KL(P‖Q) stays finite (as onnxruntime's calibrator does). */
function smooth(d: Float64Array, eps = 1e-4): Float64Array | undefined {
  let zeros = 0;
  for (const v of d) if (v === 0) zeros++;
  const nonZeros = d.length - zeros;
  if (nonZeros === 0) return undefined;
  const take = (eps * zeros) / nonZeros;
  return d.map((v) => (v === 0 ? eps : v - take));
}

/**
 * Entropy calibration over a |x| histogram (TensorRT's method, as onnxruntime implements it):
 * for each candidate threshold, P is the histogram up to it with the clipped mass added to its
 * last bin, Q is P's bins merged into `levels` groups and spread back over the non-empty ones;
 * the threshold with the least KL(P‖Q) wins. The first bin (values that are, or round to,
 * zero: a ReLU's output is half zeros) is left out: zero is exact at any threshold, and its spike
 * would otherwise pull the threshold far too low.
 */
export function entropyThreshold(histogram: Float64Array, histogramMax: number, levels = 128): number {
  const bins = histogram.length;
  const width = histogramMax / bins;
  const h = Float64Array.from(histogram);
  h[0] = 0;
  let best = bins;
  let bestKl = Infinity;
  const step = Math.max(1, Math.floor(bins / 512));
  let tail = 0;
  for (let k = levels; k < bins; k++) tail += h[k];
  for (let i = levels; i <= bins; i++) {
    if (i > levels) tail -= h[i - 1];
    if ((i - levels) % step !== 0 && i !== bins) continue;
    const p = h.slice(0, i);
    p[i - 1] += tail;
    const merged = Math.floor(i / levels);
    const q = new Float64Array(i);
    for (let g = 0; g < levels; g++) {
      const start = g * merged;
      const end = g === levels - 1 ? i : start + merged;
      let mass = 0;
      let nonEmpty = 0;
      for (let k = start; k < end; k++) {
        mass += h[k];
        if (p[k] !== 0) nonEmpty++;
      }
      if (nonEmpty === 0) continue;
      for (let k = start; k < end; k++) if (p[k] !== 0) q[k] = mass / nonEmpty;
    }
    const ps = smooth(p);
    const qs = smooth(q);
    if (!ps || !qs) continue;
    let sp = 0;
    let sq = 0;
    for (let k = 0; k < i; k++) {
      sp += ps[k];
      sq += qs[k];
    }
    let kl = 0;
    for (let k = 0; k < i; k++) {
      const pk = ps[k] / sp;
      if (pk > 0) kl += pk * Math.log(pk / (qs[k] / sq));
    }
    if (kl < bestKl) {
      bestKl = kl;
      best = i;
    }
  }
  return Math.min(histogramMax, (best + 0.5) * width);
}

/** The quantization range [lo, hi] of a value (lo ≤ 0 ≤ hi). */
export function rangeFor(stats: ValueStats, options: CalibrationOptions): [number, number] {
  let lo = Math.min(0, stats.min);
  let hi = Math.max(0, stats.max);
  if (options.method !== 'minmax' && stats.histogram && stats.histogramMax !== undefined && stats.histogramMax > 0) {
    const t =
      options.method === 'percentile'
        ? percentileThreshold(stats.histogram, stats.histogramMax, options.percentile)
        : entropyThreshold(stats.histogram, stats.histogramMax);
    lo = Math.max(lo, -t);
    hi = Math.min(hi, t);
  }
  return [lo, hi];
}
