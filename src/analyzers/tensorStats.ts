/**
 * Statistics of one stored tensor, over its values widened to float32, in two streaming passes
 * over chunks (a big tensor is never held widened in full):
 *   pass 1: min, max, sum, sum of squares, exact zeros, NaN/Inf, and max |w| per channel;
 *   pass 2: the histogram, near-zeros, squared deviations when the sums of pass 1 cannot give
 *           the variance exactly enough (see deviationFromSums), and what INT8/INT4
 *           quantization would do (error, INT8 code counts for entropy), plus the fine
 *           histogram that 1-D k-means runs on.
 * Both passes run in WebAssembly SIMD kernels (wasm/statsKernel, wasm/quantKernel) when every value is finite;
 * the JavaScript loops below are the exact reference it is tested against, and the NaN/Inf path.
 */
import type { TensorInfo } from '../core/onnx/tensor';
import { Histogram } from './histogram';
import { COARSE_GROUPS, coarsen, kmeans1dEach } from './kmeans1d';
import { FloatBitBins, groupsFromSorted, type MomentGroups } from './momentGroups';
import { AsymmetricMeter, INT4, INT8, QuantErrorMeter, scaleFor, sqnrDb, type QuantScheme } from './quantize';
import { huffmanBits, shannonEntropyBits } from './entropy';
import { sortFloat32 } from './radixSort';
import { checkpointFor } from './checkpoint';
import type { DequantizeParams } from './dequantize';
import { forEachRealChunk, realDims, realElements } from './realValues';
import { statsKernel, type FirstPass } from './wasm/statsKernel';
import { kernelQuantize, type QuantState } from './wasm/quantKernel';

export interface StatsOptions {
  /** Histogram bins over [min, max]. Default 256. */
  readonly bins?: number;
  /** |w| ≤ epsilon · max|w| counts as near zero. Default 1e-3. */
  readonly nearZeroEpsilon?: number;
  /** Values widened per chunk. Default 4M (16 MB of float32). */
  readonly chunkElements?: number;
  /** Axis whose slices are the channels for per-channel quantization (undefined: per-tensor only). */
  readonly channelAxis?: number;
  /** Also estimate quantization, clustering and entropy-coding savings. Default true. */
  readonly redundancy?: boolean;
  /** Also count |w| per power of two (the log-scale view of long tails). Default false. */
  readonly logHistogram?: boolean;
  /** Stops between chunks when aborted (the event loop runs between chunks so the abort can arrive). */
  readonly signal?: AbortSignal;
  /**
   * Up to this many weights, k-means works on the sorted values (exact groups up to 16,384
   * distinct values); above it, on bins by the top 19 bits of each float32, streamed (one bin per
   * value for FLOAT16/BFLOAT16 weights, 2^-10 of a value wide for float32). Default 65,536.
   */
  readonly exactClusteringElements?: number;
  /** Statistics of the real values (codes × scale, unpacked blocks, codebook entries) instead of the stored codes. */
  readonly dequantize?: DequantizeParams;
}

export interface HistogramResult {
  min: number;
  max: number;
  counts: number[];
}

export interface QuantEstimate {
  sqnrDb: number;
  maxAbsError: number;
}

export interface TensorRedundancy {
  int8PerTensor: QuantEstimate;
  int4PerTensor: QuantEstimate;
  /** Asymmetric per tensor (UINT8/UINT4 with a zero point), as the quantize transform does it. */
  uint8PerTensorSqnrDb: number;
  uint4PerTensorSqnrDb: number;
  int8PerChannel: QuantEstimate | null;
  int4PerChannel: QuantEstimate | null;
  /** Entropy of the INT8 codes (per-channel when there are channels), bits per weight. */
  entropyBitsInt8: number;
  /** Size in bytes of those codes Huffman-coded (code table not counted). */
  huffmanBytesInt8: number;
  /** k-means clustering with k centroids: SQNR in dB. */
  clusterSqnrDb: Record<'4' | '16' | '256', number>;
}

export interface TensorStats {
  elements: number;
  /** Finite values only. */
  min: number;
  max: number;
  mean: number;
  std: number;
  zeroFraction: number;
  nearZeroFraction: number;
  nanFraction: number;
  infFraction: number;
  histogram: HistogramResult;
  /**
   * A symmetric log-scale view for long tails: counts of |w| per power-of-two bucket, by sign
   * (only when asked for: it costs as much as the rest of the pass).
   */
  logHistogram: { exponents: number[]; positive: number[]; negative: number[]; zeros: number } | null;
  /** Finite min and max of each channel along `axis` (when a channel axis was given and there are at most MAX_CHANNEL_RANGES channels). */
  channelRanges: ChannelRanges | null;
  redundancy: TensorRedundancy | null;
}

export interface ChannelRanges {
  axis: number;
  /** Per channel; a channel with no finite value has min = max = 0. */
  min: number[];
  max: number[];
}

/** Per-channel ranges run in the kernel up to this many channels (8 bytes of its memory each); JavaScript beyond. */
const MAX_KERNEL_CHANNELS = 1 << 20;

/** Channel ranges are kept for tensors with at most this many channels (more would not fit a chart, and cost message size). */
export const MAX_CHANNEL_RANGES = 4096;

/** Channel index of each element along `axis`: (flat / inner) % size. */
function channelGeometry(dims: readonly number[], axis: number | undefined): { inner: number; size: number } | null {
  if (axis === undefined || axis < 0 || axis >= dims.length || dims.length < 2) return null;
  let inner = 1;
  for (let d = axis + 1; d < dims.length; d++) inner *= dims[d];
  return { inner, size: dims[axis] };
}

const LOG_MIN_EXPONENT = -40; // |w| < 2^-40 lands in the lowest bucket
const LOG_MAX_EXPONENT = 40;

export async function computeTensorStats(t: TensorInfo, options: StatsOptions = {}): Promise<TensorStats> {
  const bins = options.bins ?? 256;
  const epsilon = options.nearZeroEpsilon ?? 1e-3;
  const chunk = options.chunkElements ?? 4 * 1024 * 1024;
  const wantRedundancy = options.redundancy ?? true;
  const dequantize = options.dequantize;
  const elements = realElements(t, dequantize);
  const channels = channelGeometry(realDims(t, dequantize), options.channelAxis);

  // ---- pass 1
  const p1 = new Float64Array(PASS1_SLOTS);
  p1[P1_MIN] = Infinity;
  p1[P1_MAX] = -Infinity;
  const channelMin = channels ? new Float64Array(channels.size).fill(Infinity) : null;
  const channelMax = channels ? new Float64Array(channels.size).fill(-Infinity) : null;
  const checkpoint = checkpointFor(options.signal);
  // Chunks are widened straight into the WebAssembly kernel's memory and used there before the
  // next await, so another analysis on this thread cannot overwrite them in between.
  const kernel = statsKernel();
  const channelRoom = channels && channels.size <= MAX_KERNEL_CHANNELS ? channels.size : 0;
  const into = kernel ? (count: number): Float32Array => kernel.prepare(count, bins, channelRoom) : undefined;
  const widen = kernel ? (dataType: number, raw: Uint8Array, first: number, count: number) => kernel.widen(dataType, raw, first, count, bins, channelRoom) : undefined;
  const chunks = (each: (v: Float32Array, first: number) => Promise<void>): Promise<void> => forEachRealChunk(t, dequantize, chunk, each, into, widen);
  // A tensor that fits in one chunk is widened once; pass 2 reuses it if it is still in memory.
  let chunkCount = 0;
  let firstChunk: { values: Float32Array; generation: number } | null = null;
  await chunks(async (v, first) => {
    if (chunkCount++ === 0) firstChunk = { values: v, generation: kernel?.generation ?? 0 };
    const fast = kernel?.firstPass();
    if (fast) addFirstPass(fast, p1);
    else firstPassChunk(v, p1);
    if (channelMin && channelMax && channels) {
      if (fast && channelRoom > 0) kernel!.channelRanges(first, channels.inner, channelMin, channelMax);
      else channelRangeChunk(v, first, channels, channelMin, channelMax);
    }
    await checkpoint();
  });
  let min = p1[P1_MIN];
  let max = p1[P1_MAX];
  const sum = p1[P1_SUM];
  const zeros = p1[P1_ZEROS];
  const nans = p1[P1_NANS];
  const infs = p1[P1_INFS];
  const finite = elements - nans - infs;
  if (finite === 0) {
    min = 0;
    max = 0;
  }
  const absMax = Math.max(Math.abs(min), Math.abs(max));
  if (channelMin && channelMax) {
    for (let c = 0; c < channelMin.length; c++) {
      if (channelMin[c] > channelMax[c]) channelMin[c] = channelMax[c] = 0; // no finite value
    }
  }
  const channelAbsMax = channelMin && channelMax ? channelMin.map((lo, c) => Math.max(-lo, channelMax[c])) : null;
  const mean = finite > 0 ? sum / finite : 0;
  const signalEnergy = p1[P1_SQUARES];
  const onePassDeviation = deviationFromSums(sum, signalEnergy, finite);

  // ---- pass 2
  const histogram = new Histogram({ min, max, bins });
  const nearLimit = epsilon * absMax;
  const p2 = new Float64Array(PASS2_SLOTS);
  const logSize = LOG_MAX_EXPONENT - LOG_MIN_EXPONENT + 1;
  const logPositive = options.logHistogram ? new Float64Array(logSize) : null;
  const logNegative = options.logHistogram ? new Float64Array(logSize) : null;

  const quant = wantRedundancy
    ? {
        perTensor: quantMeters(),
        asymmetric: { uint8: new AsymmetricMeter(min, max, 255), uint4: new AsymmetricMeter(min, max, 15) },
        perChannel: channels ? quantMeters() : null,
        tensorScale8: scaleFor(absMax, INT8),
        tensorScale4: scaleFor(absMax, INT4),
        channelScale8: channelAbsMax ? Float64Array.from(channelAbsMax, (m) => scaleFor(m, INT8)) : null,
        channelScale4: channelAbsMax ? Float64Array.from(channelAbsMax, (m) => scaleFor(m, INT4)) : null,
        int8Codes: new Float64Array(256),
      }
    : null;
  const exactClustering = elements <= (options.exactClusteringElements ?? 65536);
  const moments = wantRedundancy && !exactClustering ? FloatBitBins.take() : null;
  const kept = wantRedundancy && exactClustering ? new Float32Array(finite) : null;
  let keptCount = 0;

  const useKernel = kernel !== null && nans + infs === 0;
  const secondPass = async (v: Float32Array, first: number): Promise<void> => {
    if (useKernel) {
      p2[P2_NEAR_ZEROS] += kernel.secondPass(histogram, nearLimit);
    } else {
      histogram.add(v);
      nearZeroChunk(v, nearLimit, p2);
    }
    if (onePassDeviation === null) deviationChunk(v, mean, p2);
    if (logPositive && logNegative) logHistogramChunk(v, logPositive, logNegative);
    moments?.add(v);
    if (kept) {
      for (let i = 0; i < v.length; i++) if (Number.isFinite(v[i])) kept[keptCount++] = v[i];
    }
    if (quant && useKernel) kernelQuantize(kernel, first, quant, channels);
    else if (quant) quantizeChunk(v, first, channels, quant);
    await checkpoint();
  };
  const single = chunkCount === 1 ? (firstChunk as { values: Float32Array; generation: number } | null) : null;
  if (single && (!kernel || kernel.holds(single.values, single.generation))) await secondPass(single.values, 0);
  else await chunks(secondPass); // widened (and dequantized) again
  const squaredDeviation = onePassDeviation ?? p2[P2_DEVIATION];
  const nearZeros = p2[P2_NEAR_ZEROS];

  const estimate = (m: QuantErrorMeter): QuantEstimate => ({ sqnrDb: sqnrDb(signalEnergy, m.noiseEnergy), maxAbsError: m.maxAbsError });
  let redundancy: TensorRedundancy | null = null;
  if (quant) {
    const { perTensor, asymmetric, perChannel, int8Codes } = quant;
    const groups: MomentGroups = kept ? groupsFromSorted(sortFloat32(kept)) : moments!.groups();
    const coarse = coarsen(groups, COARSE_GROUPS);
    const [c4, c16, c256] = kmeans1dEach(groups, [4, 16, 256], { coarse }).map((r) => sqnrDb(signalEnergy, r.sse));
    redundancy = {
      int8PerTensor: estimate(perTensor.int8),
      int4PerTensor: estimate(perTensor.int4),
      uint8PerTensorSqnrDb: sqnrDb(signalEnergy, asymmetric.uint8.noiseEnergy),
      uint4PerTensorSqnrDb: sqnrDb(signalEnergy, asymmetric.uint4.noiseEnergy),
      int8PerChannel: perChannel ? estimate(perChannel.int8) : null,
      int4PerChannel: perChannel ? estimate(perChannel.int4) : null,
      entropyBitsInt8: shannonEntropyBits(int8Codes),
      huffmanBytesInt8: Math.ceil(huffmanBits(int8Codes) / 8),
      clusterSqnrDb: { '4': c4, '16': c16, '256': c256 },
    };
  }

  return {
    elements,
    min,
    max,
    mean,
    std: finite > 0 ? Math.sqrt(squaredDeviation / finite) : 0,
    zeroFraction: elements ? zeros / elements : 0,
    nearZeroFraction: elements ? nearZeros / elements : 0,
    nanFraction: elements ? nans / elements : 0,
    infFraction: elements ? infs / elements : 0,
    histogram: { min: histogram.edges[0], max: histogram.edges[bins], counts: histogram.counts }, // this histogram is not used again
    channelRanges:
      channelMin && channelMax && channelMin.length <= MAX_CHANNEL_RANGES ? { axis: options.channelAxis!, min: toArray(channelMin), max: toArray(channelMax) } : null,
    logHistogram:
      logPositive && logNegative
        ? { exponents: Array.from({ length: logSize }, (_, i) => i + LOG_MIN_EXPONENT), positive: toArray(logPositive), negative: toArray(logNegative), zeros }
        : null,
    redundancy,
  };
}

/** A plain array copy (Array.from on a typed array goes through the iterator: 50x slower). */
function toArray(a: Float64Array): number[] {
  const out = new Array<number>(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i];
  return out;
}

function quantMeters(): { int8: QuantErrorMeter; int4: QuantErrorMeter } {
  return { int8: new QuantErrorMeter(INT8 as QuantScheme), int4: new QuantErrorMeter(INT4 as QuantScheme) };
}

// Accumulator slots, so the per-element loops below keep everything in locals.
const P1_MIN = 0;
const P1_MAX = 1;
const P1_SUM = 2;
const P1_ZEROS = 3;
const P1_NANS = 4;
const P1_INFS = 5;
const P1_SQUARES = 6;
const PASS1_SLOTS = 7;
const P2_DEVIATION = 0;
const P2_NEAR_ZEROS = 1;
const PASS2_SLOTS = 2;

/** The variance's relative error allowed to the one-pass formula (worst case, before the square root). */
const ONE_PASS_RELATIVE_ERROR = 1e-7;

/**
 * Sum of (x - mean)^2 as sum x^2 - (sum x)^2 / n, when that is exact enough; null when pass 2
 * must sum the squared deviations instead. Each x^2 of a float32 is exact in float64, so the
 * error is the summation's: at most about n * 2^-53 * sum x^2 (lanes and chunks make it smaller),
 * which the result must exceed by 1 / ONE_PASS_RELATIVE_ERROR. Weights centred near zero pass;
 * a tensor whose mean is far larger than its spread (a BatchNorm variance, a constant) does not.
 */
export function deviationFromSums(sum: number, squares: number, n: number): number | null {
  if (n === 0 || squares === 0) return 0;
  const deviation = squares - (sum * sum) / n;
  return deviation * ONE_PASS_RELATIVE_ERROR >= n * 2 ** -53 * squares ? deviation : null;
}

function addFirstPass(r: FirstPass, acc: Float64Array): void {
  if (r.min < acc[P1_MIN]) acc[P1_MIN] = r.min;
  if (r.max > acc[P1_MAX]) acc[P1_MAX] = r.max;
  acc[P1_SUM] += r.sum;
  acc[P1_ZEROS] += r.zeros;
  acc[P1_SQUARES] += r.squares;
}

function firstPassChunk(v: Float32Array, acc: Float64Array): void {
  let lo = acc[P1_MIN];
  let hi = acc[P1_MAX];
  let sum = 0;
  let squares = 0;
  let zeros = 0;
  let nans = 0;
  let infs = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0) {
      if (x !== x) nans++;
      else infs++;
      continue;
    }
    if (x < lo) lo = x;
    if (x > hi) hi = x;
    sum += x;
    squares += x * x;
    if (x === 0) zeros++;
  }
  acc[P1_MIN] = lo;
  acc[P1_MAX] = hi;
  acc[P1_SUM] += sum;
  acc[P1_SQUARES] += squares;
  acc[P1_ZEROS] += zeros;
  acc[P1_NANS] += nans;
  acc[P1_INFS] += infs;
}

/** Per-channel finite min and max of a chunk, a contiguous run of one channel at a time (no division per element). */
function channelRangeChunk(v: Float32Array, first: number, channels: { inner: number; size: number }, lows: Float64Array, highs: Float64Array): void {
  const { inner, size } = channels;
  let c = Math.floor(first / inner) % size;
  let i = 0;
  let runEnd = inner - (first % inner);
  while (i < v.length) {
    const end = Math.min(v.length, runEnd);
    let lo = lows[c];
    let hi = highs[c];
    for (; i < end; i++) {
      const x = v[i];
      if (x - x !== 0) continue; // NaN or ±Inf
      if (x < lo) lo = x;
      if (x > hi) hi = x;
    }
    lows[c] = lo;
    highs[c] = hi;
    runEnd += inner;
    if (++c === size) c = 0;
  }
}

function nearZeroChunk(v: Float32Array, nearLimit: number, acc: Float64Array): void {
  let near = 0;
  for (let i = 0; i < v.length; i++) {
    if (Math.abs(v[i]) <= nearLimit) near++; // false for NaN; Math.abs compiles without a branch on the sign
  }
  acc[P2_NEAR_ZEROS] += near;
}

function deviationChunk(v: Float32Array, mean: number, acc: Float64Array): void {
  let dev = 0;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0) continue; // NaN or ±Inf
    const d = x - mean;
    dev += d * d;
  }
  acc[P2_DEVIATION] += dev;
}

/** Counts |x| per binary exponent, read straight from the float32 bits (floor(log2 |x|)). */
function logHistogramChunk(v: Float32Array, logPositive: Float64Array, logNegative: Float64Array): void {
  const bits = new Uint32Array(v.buffer, v.byteOffset, v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0 || x === 0) continue;
    let e = ((bits[i] >>> 23) & 0xff) - 127;
    if (e < LOG_MIN_EXPONENT) e = LOG_MIN_EXPONENT;
    else if (e > LOG_MAX_EXPONENT) e = LOG_MAX_EXPONENT;
    if (x > 0) logPositive[e - LOG_MIN_EXPONENT]++;
    else logNegative[e - LOG_MIN_EXPONENT]++;
  }
}


/** Quantizes a chunk as INT8/INT4, per tensor and per channel, counting the INT8 codes. */
export function quantizeChunk(v: Float32Array, first: number, channels: { inner: number; size: number } | null, q: QuantState): void {
  const { perTensor, asymmetric, perChannel, tensorScale8, tensorScale4, channelScale8, channelScale4, int8Codes } = q;
  for (let i = 0; i < v.length; i++) {
    const x = v[i];
    if (x - x !== 0) continue;
    const q8 = perTensor.int8.add(x, tensorScale8);
    perTensor.int4.add(x, tensorScale4);
    asymmetric.uint8.add(x);
    asymmetric.uint4.add(x);
    if (perChannel && channels && channelScale8 && channelScale4) {
      const c = Math.floor((first + i) / channels.inner) % channels.size;
      int8Codes[perChannel.int8.add(x, channelScale8[c]) + 128]++;
      perChannel.int4.add(x, channelScale4[c]);
    } else {
      int8Codes[q8 + 128]++;
    }
  }
}
