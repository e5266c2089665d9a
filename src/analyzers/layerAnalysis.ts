/**
 * Per-layer analysis: statistics of every weight, and for the layer's main weight the
 * redundancy a person can act on (how INT8/INT4 quantization, 16-way clustering, entropy coding
 * and a low-rank factorization would do).
 */
import { DataType, dataTypeInfo } from '../core/onnx/dataTypes';
import type { StoredTensor } from '../core/onnx/modelIndex';
import type { Layer } from './layers';
import type { DequantizeParams } from './dequantize';
import { dequantizeParams } from './dequantizeParams';
import { readRealFloat32, realDims, realElements } from './realValues';
import { energyCurve, factorizedParams, randomizedEnergies, rankForEnergy, singularEnergies, type EnergyCurve, type LowRankEnergy, type RandomizedEnergy } from './lowRank';
import { computeTensorStats, type StatsOptions, type TensorStats } from './tensorStats';
import type { StatsCache } from './statsCache';
import { checkpointFor } from './checkpoint';

export interface LayerRedundancy {
  /** Which weight these figures describe (the layer's largest matrix-shaped weight). */
  weight: string;
  /** Smallest rank keeping 90/95/99% of the singular-value energy; null when not computed. */
  rank90: number | null;
  rank95: number | null;
  rank99: number | null;
  /** Parameters of a rank-rank90 factorization; null when not computed. */
  rank90Params: number | null;
  /** Why the low-rank figures are null, if they are. */
  lowRankSkipped?: string;
  /**
   * 'exact' (all singular values), or 'randomized' for matrices whose smaller side is over
   * maxLowRankDim: then the ranks are upper bounds and null when the top 64 values do not reach them.
   */
  lowRankMethod?: 'exact' | 'randomized';
  /** Randomized only: the energy fraction the top singular values found keep (a lower bound). */
  topEnergyFraction?: number;
  /** Energy kept by rank (the singular-value energy curve); absent when the low-rank figures are. */
  energyCurve?: EnergyCurve;
  /** Per-channel where the weight has channels, per-tensor otherwise. */
  int8SqnrDb: number;
  int4SqnrDb: number;
  int8MaxAbsError: number;
  int4MaxAbsError: number;
  /** The same with one scale for the whole tensor. */
  int8PerTensorSqnrDb: number;
  int4PerTensorSqnrDb: number;
  /** Asymmetric per tensor: UINT8 / UINT4 with a zero point. */
  uint8PerTensorSqnrDb: number;
  uint4PerTensorSqnrDb: number;
  cluster4SqnrDb: number;
  cluster16SqnrDb: number;
  cluster256SqnrDb: number;
  entropyBitsInt8: number;
  huffmanBytesInt8: number;
}

export interface LayerAnalysis {
  stats: Map<StoredTensor, TensorStats>;
  /** Weights whose statistics describe their real values (codes × scale, unpacked blocks, codebook entries), not what is stored. */
  dequantized: Map<StoredTensor, { readonly realShape: readonly number[] }>;
  redundancy: LayerRedundancy | null;
}

export interface LayerAnalysisOptions extends StatsOptions {
  /** Largest min(rows, cols) for which the exact singular values are computed (cost grows as its square times the other side). Default 1024. */
  readonly maxLowRankDim?: number;
  /** Where to remember statistics between runs, and the version of the file the tensors come from. */
  readonly cache?: { readonly stats: StatsCache; readonly fileVersion: string | undefined };
}

/** The axis of a weight (of real shape `dims`) that holds output channels, by how the op uses it. */
export function channelAxisFor(opType: string, dims: readonly number[], attributes: ReadonlyMap<string, number>): number | undefined {
  const rank = dims.length;
  if (rank < 2) return undefined;
  switch (opType) {
    case 'ConvTranspose':
      return 1;
    case 'Gemm':
    case 'QGemm':
      return rank === 2 ? (attributes.get('transB') ? 0 : 1) : undefined;
    case 'MatMul':
    case 'MatMulInteger':
    case 'QLinearMatMul':
    case 'FusedMatMul':
      return rank - 1;
    case 'LSTM':
    case 'GRU':
    case 'RNN':
      return rank === 3 ? 1 : undefined;
    default:
      return 0; // Conv, Gather (embedding rows), and the rest: the leading axis
  }
}

function isAnalyzable(t: StoredTensor): boolean {
  return (dataTypeInfo(t.dataType)?.numeric ?? false) && t.dataType !== DataType.Bool && t.elements > 0;
}

/**
 * The layer's main weight: the largest numeric tensor of rank ≥ 2, else the largest numeric one;
 * a masked weight's non-zeros count as the dense weight they make.
 */
export function mainWeight(layer: Layer): StoredTensor | undefined {
  const numeric = layer.weights.filter(isAnalyzable);
  const dims = (t: StoredTensor): readonly number[] => {
    const d = layer.dequantized?.get(t);
    return d?.kind === 'masked' ? d.dims : t.dims;
  };
  const elements = (t: StoredTensor): number => dims(t).reduce((a, b) => a * b, 1);
  const byElements = (a: StoredTensor, b: StoredTensor): number => elements(b) - elements(a);
  return numeric.filter((t) => dims(t).length >= 2).sort(byElements)[0] ?? numeric.sort(byElements)[0];
}

/**
 * A layer's analysis work in units of one weight's statistics, to split layers between workers.
 * The low-rank figures of the main weight add about min(rows, cols) / 400 units per element: the
 * Gram kernel's n / 2 multiply-adds at ~4 GFLOP/s against ~100 ns of statistics and k-means per
 * element (the 44M-weight FLOAT16 conv model's profile); the randomized estimate about 4.
 */
export function analysisWork(layer: Layer, redundancy: boolean, maxLowRankDim = 1024): number {
  const main = redundancy ? mainWeight(layer) : undefined;
  if (!main || main.dims.length < 2) return layer.params;
  const rows = main.dims[0];
  const side = Math.min(rows, main.elements / Math.max(1, rows));
  return layer.params + main.elements * (side <= maxLowRankDim ? side / 400 : 4);
}

export function intAttributes(layer: Layer): Map<string, number> {
  const out = new Map<string, number>();
  for (const a of layer.node.node.attribute) if (a.name && a.i !== undefined) out.set(a.name, Number(a.i));
  return out;
}

export async function analyzeLayer(layer: Layer, options: LayerAnalysisOptions = {}): Promise<LayerAnalysis> {
  const op = layer.node.node.opType ?? '';
  const attrs = intAttributes(layer);
  const main = mainWeight(layer);
  const wantRedundancy = options.redundancy ?? true;
  const stats = new Map<StoredTensor, TensorStats>();
  const dequantized: LayerAnalysis['dequantized'] = new Map();
  let mainDequantize: DequantizeParams | undefined;
  for (const t of layer.weights) {
    if (!isAnalyzable(t)) continue;
    const dequantize = await dequantizeParams(t, layer.dequantized?.get(t));
    if (dequantize) dequantized.set(t, { realShape: realDims(t, dequantize) });
    if (t === main) mainDequantize = dequantize;
    const tensorOptions: StatsOptions = {
      bins: options.bins,
      nearZeroEpsilon: options.nearZeroEpsilon,
      chunkElements: options.chunkElements,
      exactClusteringElements: options.exactClusteringElements,
      logHistogram: options.logHistogram,
      signal: options.signal,
      channelAxis: channelAxisFor(op, realDims(t, dequantize), attrs),
      redundancy: wantRedundancy && t === main,
      dequantize,
    };
    const cached = options.cache?.stats.get(t, tensorOptions, options.cache.fileVersion);
    const computed = cached ?? (await computeTensorStats(t, tensorOptions));
    if (!cached) options.cache?.stats.set(t, tensorOptions, options.cache.fileVersion, computed);
    stats.set(t, computed);
  }
  const mainStats = main && stats.get(main);
  if (!main || !mainStats?.redundancy) return { stats, dequantized, redundancy: null };

  const r = mainStats.redundancy;
  const int8 = r.int8PerChannel ?? r.int8PerTensor;
  const int4 = r.int4PerChannel ?? r.int4PerTensor;
  const redundancy: LayerRedundancy = {
    weight: main.name,
    rank90: null,
    rank95: null,
    rank99: null,
    rank90Params: null,
    int8SqnrDb: int8.sqnrDb,
    int4SqnrDb: int4.sqnrDb,
    int8MaxAbsError: int8.maxAbsError,
    int4MaxAbsError: int4.maxAbsError,
    int8PerTensorSqnrDb: r.int8PerTensor.sqnrDb,
    int4PerTensorSqnrDb: r.int4PerTensor.sqnrDb,
    uint8PerTensorSqnrDb: r.uint8PerTensorSqnrDb,
    uint4PerTensorSqnrDb: r.uint4PerTensorSqnrDb,
    cluster4SqnrDb: r.clusterSqnrDb['4'],
    cluster16SqnrDb: r.clusterSqnrDb['16'],
    cluster256SqnrDb: r.clusterSqnrDb['256'],
    entropyBitsInt8: r.entropyBitsInt8,
    huffmanBytesInt8: r.huffmanBytesInt8,
  };
  Object.assign(redundancy, await lowRankOf(main, mainStats, options.maxLowRankDim ?? 1024, options.signal, mainDequantize));
  return { stats, dequantized, redundancy };
}

type LowRankFigures = Pick<LayerRedundancy, 'rank90' | 'rank95' | 'rank99' | 'rank90Params' | 'lowRankSkipped' | 'lowRankMethod' | 'topEnergyFraction' | 'energyCurve'>;

/** Low-rank figures ride along with the (cached) statistics of the same tensor. */
const lowRankByStats = new WeakMap<TensorStats, LowRankFigures>();

/** How many singular values a randomized estimate looks for on matrices too big for the exact one. */
const RANDOMIZED_RANK = 64;

async function lowRankOf(t: StoredTensor, stats: TensorStats, maxDim: number, signal?: AbortSignal, dequantize?: DequantizeParams): Promise<LowRankFigures> {
  const known = lowRankByStats.get(stats);
  if (known) return known;
  const dims = realDims(t, dequantize);
  const rows = dims[0];
  const cols = realElements(t, dequantize) / Math.max(1, rows);
  const figures: LowRankFigures = { rank90: null, rank95: null, rank99: null, rank90Params: null };
  if (dims.length < 2) figures.lowRankSkipped = 'not a matrix';
  else if (stats.nanFraction > 0 || stats.infFraction > 0) figures.lowRankSkipped = 'has NaN or Inf values';
  else {
    const w = await readRealFloat32(t, dequantize);
    const checkpoint = checkpointFor(signal);
    const exact = Math.min(rows, cols) <= maxDim;
    const e: LowRankEnergy | RandomizedEnergy = exact
      ? await singularEnergies(w, rows, cols, checkpoint)
      : await randomizedEnergies(w, rows, cols, RANDOMIZED_RANK, { checkpoint });
    figures.lowRankMethod = exact ? 'exact' : 'randomized';
    figures.rank90 = rankForEnergy(e, 0.9);
    figures.rank95 = rankForEnergy(e, 0.95);
    figures.rank99 = rankForEnergy(e, 0.99);
    figures.rank90Params = figures.rank90 === null ? null : factorizedParams(e, figures.rank90);
    figures.energyCurve = energyCurve(e);
    if (!exact) {
      const r = e as RandomizedEnergy;
      const top = e.energies.reduce((a, b) => a + b, 0);
      figures.topEnergyFraction = r.total > 0 ? top / r.total : 1;
      if (figures.rank99 === null) {
        figures.lowRankSkipped = `randomized estimate: the top ${r.energies.length} singular values keep ${(100 * figures.topEnergyFraction).toFixed(1)}% of the energy; ranks not reached are null`;
      }
    }
  }
  lowRankByStats.set(stats, figures);
  return figures;
}
