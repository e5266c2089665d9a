/**
 * What the layer table needs of an analyzed layer: every figure, but none of the arrays only the
 * detail draws (histograms, channel ranges, the energy curve). Those are a few kilobytes a layer,
 * so a 10,000-layer model would post tens of megabytes to the webview; the webview asks for them
 * one layer at a time instead. Pure: the host slims, the webview reads.
 */
import type { AnalyzedLayer, AnalyzedWeight } from '../analyzers/modelAnalysis';
import type { LayerRedundancy } from '../analyzers/layerAnalysis';

export type TableWeight = Omit<AnalyzedWeight, 'stats'> & { stats?: Omit<NonNullable<AnalyzedWeight['stats']>, 'histogram' | 'channelRanges'> };

export type TableLayer = Omit<AnalyzedLayer, 'weights' | 'redundancy'> & {
  weights: TableWeight[];
  /** The redundancy figures; of the energy curve only the full rank the facts name. */
  redundancy?: (Omit<LayerRedundancy, 'energyCurve'> & { fullRank?: number }) | null;
};

export function tableLayer(layer: AnalyzedLayer): TableLayer {
  const weights = layer.weights.map((w): TableWeight => {
    if (!w.stats) return w;
    const { histogram, channelRanges, ...figures } = w.stats;
    return { ...w, stats: figures };
  });
  if (!layer.redundancy) return { ...layer, weights, redundancy: layer.redundancy };
  const { energyCurve, ...redundancy } = layer.redundancy;
  return { ...layer, weights, redundancy: energyCurve ? { ...redundancy, fullRank: energyCurve.fullRank } : redundancy };
}
