/**
 * The full analysis of a model: the size summary plus, per layer, weight statistics and
 * redundancy estimates. Runs layer by layer, reports progress and stops when aborted, so a
 * worker (or the CLI) can drive it.
 */
import { checkUserShapes } from '../core/inputNames';
import { graphValues } from '../core/onnx/graphValues';
import type { OnnxModel } from '../core/onnx/model';
import { attributeLayers, type Layer } from './layers';
import type { StoredTensor } from '../core/onnx/modelIndex';
import { analysisWork, analyzeLayer, type LayerAnalysisOptions, type LayerRedundancy } from './layerAnalysis';
import { countMacs } from './macs';
import { checkpointFor } from './checkpoint';
import { inferShapes } from './shapes';
import { summarizeModel, type LayerSummary, type ModelSummary, type WeightSummary } from './modelSummary';
import type { TensorStats } from './tensorStats';
import { assignShards, type Shard } from './shards';
import { humanBytes } from '../shared/format';
import { DataType } from '../core/onnx/dataTypes';
import { clusteredBytes, quantizedBytes } from './resultBytes';
import { castOperand, weightRole, type WeightRole } from './weightRole';

export interface AnalysisProgress {
  layersDone: number;
  layersTotal: number;
  elementsDone: number;
  elementsTotal: number;
}

export interface AnalyzedWeight extends WeightSummary {
  stats?: Pick<TensorStats, 'min' | 'max' | 'mean' | 'std' | 'zeroFraction' | 'nearZeroFraction' | 'nanFraction' | 'infFraction' | 'histogram' | 'channelRanges'>;
  /** Set when the statistics describe the real values (codes × scale, unpacked blocks, codebook entries), not what is stored. */
  dequantized?: true;
  /** The real values' shape when it is not the stored one (MatMulNBits: [N, K]). */
  realShape?: number[];
}

export interface AnalyzedLayer extends Omit<LayerSummary, 'weights'> {
  weights: AnalyzedWeight[];
  /** Multiply-accumulates per inference; null when the shapes are unknown or the op is not one MACs are counted for. */
  macs: number | null;
  /** This layer's share of the model's weight bytes, 0..1. */
  share: number;
  /** Its bytes with each method at its default setting. */
  sizeAt: SizeAt;
  /** Redundancy of the layer's main weight; null when it has none that can be analyzed. */
  redundancy?: LayerRedundancy | null;
  /** Set when the layer was left for later: a weight over `maxEagerBytes` (analyze it with `layers`). */
  deferred?: string;
}

export interface ModelAnalysis extends Omit<ModelSummary, 'layers'> {
  layers: AnalyzedLayer[];
  estimates: SizeEstimates;
  /** MACs of every Conv/ConvTranspose/Gemm/MatMul/RNN node, layers or not (attention MatMuls too). */
  macs: { total: number; resolvedNodes: number; unresolved: { name: string; opType: string; graph: string }[] };
}

/** What the weights would take on disk with each method at its default setting. */
export interface SizeEstimates {
  storedBytes: number;
  float16Bytes: number;
  int8PerChannelBytes: number;
  int4PerChannelBytes: number;
  cluster16Bytes: number;
  huffmanInt8Bytes: number | null;
}

export async function analyzeModel(
  model: OnnxModel,
  options: LayerAnalysisOptions & {
    signal?: AbortSignal;
    onProgress?: (p: AnalysisProgress) => void;
    /** Each layer as soon as it is analyzed (index into the layers), so a view can fill in progressively. */
    onLayer?: (index: number, layer: AnalyzedLayer) => void;
    /** Values for symbolic dims (e.g. batch=1, seq=128); others stay unknown. */
    dims?: Record<string, number>;
    /** Whole shapes of named inputs (for inputs whose dims have no names). */
    inputShapes?: Record<string, number[]>;
    /** Leave layers with a weight over this many bytes for later (marked `deferred`), unless named in `layers`. */
    maxEagerBytes?: number;
    /** Analyze only these layers (indices into the layers); the others keep their sizes. */
    layers?: readonly number[];
    /** Analyze only this shard's layers (the others keep their sizes, no statistics); merge the shards with mergeShards. */
    shard?: Shard;
  } = {},
): Promise<ModelAnalysis> {
  const attribution = attributeLayers(model.index);
  const summary = summarizeModel(model, attribution) as ModelSummary & ModelAnalysis;
  const { layers } = attribution;
  // Shapes that do not fit the inputs would give MACs of another model: eval refuses them too.
  checkUserShapes(graphValues(model.proto).inputs.map((v) => ({ name: v.name, type: v.dataType, shape: v.shape })), { shapes: options.inputShapes, dims: options.dims });
  const macs = countMacs(
    model.index,
    inferShapes(model.index, { dims: new Map(Object.entries(options.dims ?? {})), inputs: new Map(Object.entries(options.inputShapes ?? {})) }),
  );
  summary.macs = {
    total: macs.total,
    resolvedNodes: macs.perNode.size - macs.unresolved.length,
    unresolved: macs.unresolved.map((n) => ({ name: n.label, opType: n.node.opType ?? '', graph: n.graph.path })),
  };
  layers.forEach((l, i) => {
    const out = summary.layers[i];
    out.macs = macs.perNode.get(l.node) ?? null;
    out.share = summary.model.weightBytes ? out.bytes / summary.model.weightBytes : 0;
    out.sizeAt = sumSizes(out.weights.map((w, k) => maskedSizeAt(w, l, l.weights[k]) ?? weightSizeAt(w, roleIn(l, l.weights[k]))));
  });
  const owner = options.shard ? assignShards(layers.map((l) => analysisWork(l, options.redundancy ?? true, options.maxLowRankDim)), options.shard.count) : undefined;
  const only = options.layers ? new Set(options.layers) : undefined;
  const wanted = (i: number): boolean => {
    if (only) return only.has(i);
    const largest = Math.max(0, ...layers[i].weights.map((t) => t.bytes));
    if (options.maxEagerBytes === undefined || largest <= options.maxEagerBytes) return true;
    summary.layers[i].deferred = `a weight of ${humanBytes(largest)} is over the ${humanBytes(options.maxEagerBytes)} analyzed when the model opens`;
    return false;
  };
  const mine = layers.map((_, i) => i).filter((i) => wanted(i) && (!owner || owner[i] === options.shard!.index));
  const elementsTotal = mine.reduce((n, i) => n + layers[i].params, 0);
  let elementsDone = 0;
  const checkpoint = checkpointFor(options.signal);
  for (const [done, i] of mine.entries()) {
    // Let the event loop run between layers too: a worker must see its cancel message.
    await checkpoint();
    const analysis = await analyzeLayer(layers[i], options);
    const out = summary.layers[i];
    layers[i].weights.forEach((t, w) => {
      const s = analysis.stats.get(t);
      if (s) {
        const { min, max, mean, std, zeroFraction, nearZeroFraction, nanFraction, infFraction, histogram, channelRanges } = s;
        out.weights[w].stats = { min, max, mean, std, zeroFraction, nearZeroFraction, nanFraction, infFraction, histogram, channelRanges };
        const real = analysis.dequantized.get(t);
        if (real) out.weights[w].dequantized = true;
        if (real && real.realShape.join() !== t.dims.join()) out.weights[w].realShape = [...real.realShape];
      }
    });
    out.redundancy = analysis.redundancy;
    options.onLayer?.(i, out);
    elementsDone += layers[i].params;
    options.onProgress?.({ layersDone: done + 1, layersTotal: mine.length, elementsDone, elementsTotal });
  }
  summary.estimates = estimateSizes(summary);
  return summary;
}

/**
 * An analysis put together from layers analyzed elsewhere (by the workers of a pool, each
 * reporting its layers through onLayer): `base` with those layers in, the estimates over all.
 */
export function withAnalyzedLayers(base: ModelAnalysis, analyzed: ReadonlyMap<number, AnalyzedLayer>): ModelAnalysis {
  const merged: ModelAnalysis = { ...base, layers: base.layers.map((l, i) => analyzed.get(i) ?? l) };
  merged.estimates = estimateSizes(merged);
  return merged;
}

/** A layer as the summary has it: sizes, no statistics or redundancy (what crosses back once its analysis was sent on its own). */
export function withoutAnalysis(layer: AnalyzedLayer): AnalyzedLayer {
  return { ...layer, weights: layer.weights.map((w) => ({ ...w, stats: undefined, dequantized: undefined, realShape: undefined })), redundancy: undefined };
}

/** Bytes a weight would take with each method at its default setting. */
export interface SizeAt {
  float16: number;
  int8: number;
  int4: number;
  cluster16: number;
}

const FLOAT_TYPES: Record<string, number> = { FLOAT: DataType.Float, DOUBLE: DataType.Double, FLOAT16: DataType.Float16, BFLOAT16: DataType.BFloat16 };

/** How the layer's op uses a weight, when it feeds the op directly or through Casts. */
function roleIn(layer: Layer, t: StoredTensor): WeightRole | undefined {
  const found = t.isValue ? castOperand(layer, t.name) : undefined;
  return found ? weightRole(layer.node.node, found.operand, t.dims.length) : undefined;
}

/** What the transforms would write at each default setting (the same formulas: resultBytes.ts; FLOAT16 scales for FLOAT16 weights). */
function weightSizeAt(w: WeightSummary, role?: WeightRole): SizeAt {
  const type = FLOAT_TYPES[w.dataType];
  if (type === undefined || w.shape.length < 2) return { float16: w.bytes, int8: w.bytes, int4: w.bytes, cluster16: w.bytes };
  const width = w.bytes / Math.max(1, w.elements);
  const perChannel = (dtype: string): number => quantizedBytes(w.shape, type, role, { dtype, granularity: 'per-channel', blockSize: 32, symmetric: true }, true);
  return {
    float16: width > 2 ? w.elements * 2 : w.bytes,
    int8: perChannel('int8'),
    int4: perChannel('int4'),
    cluster16: clusteredBytes(w.elements, 16, width, true),
  };
}

/**
 * A masked float weight's part: the non-zeros stand for the dense weight, which is what quantize
 * and cluster write (dense), and FP16 halves the non-zeros beside the mask; the mask counts only
 * at FP16. Undefined for other weights (masked codebook indices are already compressed: as stored).
 */
function maskedSizeAt(w: WeightSummary, layer: Layer, t: StoredTensor): SizeAt | undefined {
  for (const [values, d] of layer.dequantized ?? []) {
    if (d.kind !== 'masked' || d.codebook) continue;
    if (t === d.mask) return { float16: w.bytes, int8: 0, int4: 0, cluster16: 0 };
    if (t !== values) continue;
    const elements = d.dims.reduce((a, b) => a * b, 1);
    const dense = weightSizeAt({ ...w, shape: [...d.dims], elements, bytes: elements * (w.bytes / Math.max(1, w.elements)) });
    return { ...dense, float16: Math.min(w.bytes, w.elements * 2) };
  }
  return undefined;
}

function sumSizes(sizes: SizeAt[]): SizeAt {
  const total: SizeAt = { float16: 0, int8: 0, int4: 0, cluster16: 0 };
  for (const s of sizes) {
    total.float16 += s.float16;
    total.int8 += s.int8;
    total.int4 += s.int4;
    total.cluster16 += s.cluster16;
  }
  return total;
}

/**
 * INT8 per channel with the main weights' codes Huffman-coded: the INT8 estimate with each main
 * weight's one byte a code replaced by its coded size (its scales and the layer's other weights,
 * an LSTM's recurrent ones say, stay as INT8 writes them); null unless every layer has it.
 */
function huffmanBytes(layers: readonly AnalyzedLayer[]): number | null {
  let total = 0;
  for (const l of layers) {
    if (!l.redundancy) return null;
    const codes = l.weights.find((w) => w.name === l.redundancy!.weight)?.elements ?? 0;
    total += l.sizeAt.int8 - Math.min(codes, l.sizeAt.int8) + l.redundancy.huffmanBytesInt8;
  }
  return total;
}

function estimateSizes(s: ModelAnalysis): SizeEstimates {
  const huffmanInt8Bytes = huffmanBytes(s.layers);
  const layers = sumSizes(s.layers.map((l) => l.sizeAt));
  const rest = s.unattributed.reduce((n, w) => n + w.bytes, 0);
  return {
    storedBytes: s.model.weightBytes,
    float16Bytes: layers.float16 + rest,
    int8PerChannelBytes: layers.int8 + rest,
    int4PerChannelBytes: layers.int4 + rest,
    cluster16Bytes: layers.cluster16 + rest,
    huffmanInt8Bytes: huffmanInt8Bytes === null ? null : huffmanInt8Bytes + rest,
  };
}
