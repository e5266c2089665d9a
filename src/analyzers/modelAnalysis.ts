/**
 * The full analysis of a model: the size summary plus, per layer, weight statistics and
 * redundancy estimates. Runs layer by layer, reports progress and stops when aborted, so a
 * worker (or the CLI) can drive it.
 */
import { checkUserShapes } from '../core/inputNames';
import { graphValues } from '../core/onnx/graphValues';
import type { OnnxModel } from '../core/onnx/model';
import { attributeLayers } from './layers';
import { analysisWork, analyzeLayer, type LayerAnalysisOptions, type LayerRedundancy } from './layerAnalysis';
import { countMacs } from './macs';
import { checkpointFor } from './checkpoint';
import { inferShapes } from './shapes';
import { summarizeModel, type LayerSummary, type ModelSummary, type WeightSummary } from './modelSummary';
import type { TensorStats } from './tensorStats';
import { assignShards, type Shard } from './shards';
import { humanBytes } from '../shared/format';
import { estimateSizes, layerSizeAt, type SizeAt, type SizeEstimates } from './sizeEstimates';

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

export type { SizeAt, SizeEstimates } from './sizeEstimates';

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
    out.sizeAt = layerSizeAt(l, out.weights);
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
    out.sizeAt = layerSizeAt(layers[i], out.weights); // the statistics say which weights the transforms refuse
    options.onLayer?.(i, out);
    elementsDone += layers[i].params;
    options.onProgress?.({ layersDone: done + 1, layersTotal: mine.length, elementsDone, elementsTotal });
  }
  summary.estimates = estimateSizes(summary.layers, summary.unattributed, summary.model.weightBytes);
  return summary;
}

/**
 * An analysis put together from layers analyzed elsewhere (by the workers of a pool, each
 * reporting its layers through onLayer): `base` with those layers in, the estimates over all.
 */
export function withAnalyzedLayers(base: ModelAnalysis, analyzed: ReadonlyMap<number, AnalyzedLayer>): ModelAnalysis {
  const merged: ModelAnalysis = { ...base, layers: base.layers.map((l, i) => analyzed.get(i) ?? l) };
  merged.estimates = estimateSizes(merged.layers, merged.unattributed, merged.model.weightBytes);
  return merged;
}

/** A layer as the summary has it: sizes, no statistics or redundancy (what crosses back once its analysis was sent on its own). */
export function withoutAnalysis(layer: AnalyzedLayer): AnalyzedLayer {
  return { ...layer, weights: layer.weights.map((w) => ({ ...w, stats: undefined, dequantized: undefined, realShape: undefined })), redundancy: undefined };
}

