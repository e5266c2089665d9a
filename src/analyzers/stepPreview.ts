/**
 * What a transform would do, estimated from the analysis before it runs: the weight bytes after
 * and the worst weight SQNR over the layers it would touch. Pure and browser-safe: the editor's
 * form shows it as the user changes a parameter. The figures are estimates — the transform
 * reports the measured ones when applied — and say when they are only bounds. A parameter left
 * out takes the step specification's default, as the recipe parser fills it in.
 */
import type { AnalyzedLayer, AnalyzedWeight } from './modelAnalysis';
import type { EnergyCurve } from './lowRank';
import { valueOf } from '../shared/stepSpec';

export interface StepPreview {
  /**
   * Layers the step would change (those with a float weight of rank ≥ 2 that the estimate does
   * not leave as they are; the transform may still skip some). 0: Apply would change nothing.
   */
  readonly layers: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Worst estimated weight SQNR over those layers; null when no estimate exists for this setting. */
  readonly worstSqnrDb: number | null;
  /**
   * 'estimate'; 'lower bound' when the figure is a floor (block scales beat per-channel ones; the
   * clustering refines the analysis's optimal centroids on the exact values); 'upper bound' when
   * it is a ceiling (a cluster pinned at zero can only cost accuracy).
   */
  readonly sqnrKind: 'estimate' | 'lower bound' | 'upper bound';
  /** Set when the bytes were planned by the transforms' own choices: true when they are the bytes Apply gets. */
  readonly bytesExact?: boolean;
  /** Layers with no analysis yet (still running, or deferred): not counted in the SQNR. */
  readonly unanalyzed: number;
  readonly note?: string;
}

const FLOATS = new Set(['FLOAT', 'DOUBLE', 'FLOAT16', 'BFLOAT16']);
const isMatrix = (w: AnalyzedWeight): boolean => FLOATS.has(w.dataType) && w.shape.length >= 2;

type Step = Readonly<Record<string, unknown>>;

/** What the preview needs of a layer: its weights (with statistics when analyzed) and its redundancy (undefined until analyzed). */
export type PreviewLayer = Pick<AnalyzedLayer, 'weights'> & { readonly redundancy?: AnalyzedLayer['redundancy'] };
/** `unchanged`: the transform would skip the layer (e.g. factorizing it would not make it smaller). */
type LayerEstimate = { bytesAfter: number; sqnrDb: number | null; bound?: boolean; ceiling?: boolean; unchanged?: boolean };

export function previewStep(step: Step, layers: readonly PreviewLayer[]): StepPreview {
  let bytesBefore = 0;
  let bytesAfter = 0;
  let worst: number | null = null;
  let bound = false;
  let ceiling = false;
  let touched = 0;
  let unanalyzed = 0;
  let unknownSqnr = false;
  for (const layer of layers) {
    const weights = layer.weights.filter(isMatrix);
    if (weights.length === 0) continue;
    const e = estimateLayer(step, layer, weights);
    if (e.unchanged) continue;
    touched++;
    const before = weights.reduce((n, w) => n + w.bytes, 0);
    bytesBefore += before;
    bytesAfter += Math.min(before, e.bytesAfter);
    if (layer.redundancy === undefined) unanalyzed++;
    else if (e.sqnrDb === null) unknownSqnr = true;
    else {
      worst = worst === null ? e.sqnrDb : Math.min(worst, e.sqnrDb);
      bound ||= e.bound === true;
      ceiling ||= e.ceiling === true;
    }
  }
  return {
    layers: touched,
    bytesBefore,
    bytesAfter,
    worstSqnrDb: unknownSqnr ? null : worst,
    sqnrKind: bound === ceiling ? 'estimate' : bound ? 'lower bound' : 'upper bound',
    unanalyzed,
    note: unknownSqnr ? noteFor(step) : undefined,
  };
}

function noteFor(step: Step): string {
  if (step.transform === 'prune') return 'no error estimate for structured pruning: apply it and read the measured SQNR';
  return 'no error estimate for this setting';
}

function estimateLayer(step: Step, layer: PreviewLayer, weights: readonly AnalyzedWeight[]): LayerEstimate {
  const r = layer.redundancy ?? null;
  const main = weights.find((w) => w.name === r?.weight) ?? weights[0];
  switch (step.transform) {
    case 'quantize':
      return quantizeEstimate(step, weights, r);
    case 'prune':
      return pruneEstimate(step, weights, main);
    case 'cluster':
      return clusterEstimate(step, weights, r);
    case 'factorize':
      return factorizeEstimate(step, weights, main, r?.energyCurve);
    default:
      return { bytesAfter: weights.reduce((n, w) => n + w.bytes, 0), sqnrDb: null };
  }
}

/** Scales: one float per output channel (leading axis) or per block; a zero point each when asymmetric. */
function quantizeEstimate(step: Step, weights: readonly AnalyzedWeight[], r: AnalyzedLayer['redundancy']): LayerEstimate {
  const dtype = String(valueOf('quantize', 'dtype', step));
  if (dtype === 'float16') return { bytesAfter: weights.reduce((n, w) => n + w.elements * 2, 0), sqnrDb: null };
  const bits = dtype.endsWith('4') ? 4 : 8;
  const granularity = String(valueOf('quantize', 'granularity', step));
  const symmetric = valueOf('quantize', 'symmetric', step) !== false && !dtype.startsWith('u');
  const blockSize = Number(valueOf('quantize', 'blockSize', step));
  let bytes = 0;
  for (const w of weights) {
    const groups = granularity === 'per-tensor' ? 1 : granularity === 'block' ? Math.ceil(w.elements / blockSize) : w.shape[0];
    bytes += Math.ceil((w.elements * bits) / 8) + groups * (4 + (symmetric ? 0 : bits === 8 ? 1 : 0.5));
  }
  if (!r) return { bytesAfter: bytes, sqnrDb: null };
  // The analysis quantized symmetrically; asymmetric codes of the same width do at least as well.
  const perChannel = bits === 8 ? r.int8SqnrDb : r.int4SqnrDb;
  const perTensor = bits === 8 ? r.int8PerTensorSqnrDb : r.int4PerTensorSqnrDb;
  if (granularity === 'per-tensor') {
    const asymmetric = bits === 8 ? r.uint8PerTensorSqnrDb : r.uint4PerTensorSqnrDb;
    // Analyses from before the asymmetric figures existed: the symmetric one is a floor.
    if (!symmetric && asymmetric === undefined) return { bytesAfter: bytes, sqnrDb: perTensor, bound: true };
    return { bytesAfter: bytes, sqnrDb: symmetric ? perTensor : asymmetric };
  }
  // Blocks are finer than channels: the per-channel figure is a floor.
  return { bytesAfter: bytes, sqnrDb: perChannel, bound: granularity === 'block' || !symmetric };
}

/** Unstructured pruning stores zeros (same bytes; smaller once compressed); channel pruning removes them. */
function pruneEstimate(step: Step, weights: readonly AnalyzedWeight[], main: AnalyzedWeight): LayerEstimate {
  const before = weights.reduce((n, w) => n + w.bytes, 0);
  const pattern = String(valueOf('prune', 'pattern', step));
  const sparsity = Number(valueOf('prune', 'sparsity', step));
  if (pattern === 'channel') return { bytesAfter: before * (1 - sparsity), sqnrDb: null };
  if (pattern !== 'unstructured') return { bytesAfter: before, sqnrDb: null };
  return { bytesAfter: before, sqnrDb: main.stats ? prunedSqnrDb(main.stats.histogram, sparsity) : null };
}

/**
 * SQNR of zeroing the `fraction` of values smallest in magnitude, read off the histogram: bins
 * are taken by their distance from zero, each value at its bin's centre, the last bin in part.
 */
export function prunedSqnrDb(h: { min: number; max: number; counts: readonly number[] }, fraction: number): number | null {
  const n = h.counts.reduce((a, b) => a + b, 0);
  if (n === 0 || fraction <= 0) return fraction <= 0 ? Infinity : null;
  const width = (h.max - h.min) / h.counts.length;
  const bins = h.counts.map((count, i) => ({ count, centre: width > 0 ? h.min + (i + 0.5) * width : h.min }));
  const total = bins.reduce((e, b) => e + b.count * b.centre * b.centre, 0);
  bins.sort((a, b) => Math.abs(a.centre) - Math.abs(b.centre));
  let left = Math.round(fraction * n); // the transform zeroes this many
  let removed = 0;
  for (const b of bins) {
    if (left <= 0) break;
    const take = Math.min(left, b.count);
    removed += take * b.centre * b.centre;
    left -= take;
  }
  if (total === 0) return null;
  return removed === 0 ? Infinity : 10 * Math.log10(total / removed);
}

/** Indices of 4 bits (≤ 16 clusters) or 8 bits, plus a float codebook; SQNR from the analysis's k-means at 4, 16, 256. */
function clusterEstimate(step: Step, weights: readonly AnalyzedWeight[], r: AnalyzedLayer['redundancy']): LayerEstimate {
  const k = Number(valueOf('cluster', 'clusters', step));
  const bits = k <= 16 ? 4 : 8;
  const bytes = weights.reduce((n, w) => n + Math.ceil((w.elements * bits) / 8) + k * 4, 0);
  if (!r) return { bytesAfter: bytes, sqnrDb: null };
  const known: [number, number][] = [
    [4, r.cluster4SqnrDb],
    [16, r.cluster16SqnrDb],
    [256, r.cluster256SqnrDb],
  ];
  const exact = known.find(([c]) => c === k);
  // The analysis's figure is the optimal clustering's: no clustering does better (seeded
  // k-means++ lands 0-2.5 dB below it), and zeros kept exact pin a centroid at 0.
  if (exact) return { bytesAfter: bytes, sqnrDb: exact[1], ceiling: true };
  // More clusters never do worse: the largest analysed k below is a floor.
  const below = known.filter(([c]) => c < k).at(-1);
  return { bytesAfter: bytes, sqnrDb: below ? below[1] : null, bound: true };
}

/** W ≈ U·V with rank r: r·(rows + cols) floats; SQNR = energy kept / energy dropped. */
function factorizeEstimate(step: Step, weights: readonly AnalyzedWeight[], main: AnalyzedWeight, curve: EnergyCurve | undefined): LayerEstimate {
  const before = weights.reduce((n, w) => n + w.bytes, 0);
  if (!curve) return { bytesAfter: before, sqnrDb: null };
  const rows = main.shape[0];
  const cols = main.elements / Math.max(1, rows);
  const bytesPerValue = main.bytes / Math.max(1, main.elements);
  let rank: number;
  let kept: number;
  let bound = false;
  if (typeof step.rank === 'number') {
    rank = Math.min(step.rank, curve.fullRank);
    // The curve's point at or below the rank: its energy is a floor of the rank's.
    const i = curve.ranks.findLastIndex((r) => r <= rank);
    kept = i >= 0 ? curve.kept[i] : 0;
    bound = curve.ranks[i] !== rank;
  } else {
    const energy = Number(valueOf('factorize', 'energy', step));
    const i = curve.kept.findIndex((k) => k >= energy * (1 - 1e-12));
    if (i < 0) return { bytesAfter: before, sqnrDb: null };
    // The first sampled rank reaching the energy: the transform's rank is at most this one (bytes
    // are a ceiling); it keeps at least `energy`, so the SQNR has that floor.
    rank = curve.ranks[i];
    kept = energy;
    bound = true;
  }
  const factored = rank * (rows + cols) * bytesPerValue;
  if (factored >= main.bytes) return { bytesAfter: before, sqnrDb: Infinity, unchanged: true }; // the transform skips it
  const dropped = 1 - kept;
  return { bytesAfter: before - main.bytes + factored, sqnrDb: dropped <= 0 ? Infinity : -10 * Math.log10(dropped), bound };
}
