/**
 * The analysis of one version of a document's model, as it comes in from the workers: the host
 * keeps every layer in full; webviews get the table's figures (tableLayer) in batches and ask
 * for one layer in full when it is selected. A webview that (re)loads is replayed what is in so
 * far, so hiding and showing the editor never runs the analysis again. Pure (no vscode).
 */
import type { AnalyzedLayer, ModelAnalysis } from '../analyzers/modelAnalysis';
import type { LayerSummary } from '../analyzers/modelSummary';
import { previewStep, type PreviewLayer, type StepPreview } from '../analyzers/stepPreview';
import { qualifiedLayerName } from '../shared/layerName';
import { tableLayer } from '../shared/tableLayer';
import type { ToWebview } from '../shared/protocol';

/** Layers per `layers` message when replaying: a few hundred kilobytes each. */
const REPLAY_BATCH = 500;

export class ShownAnalysis {
  private readonly layers = new Map<number, AnalyzedLayer>();
  private totals: Omit<ModelAnalysis, 'layers'> | null = null;

  constructor(readonly version: number) {}

  get done(): boolean {
    return this.totals !== null;
  }

  /** The analysis's totals once every layer is in. */
  get finished(): Omit<ModelAnalysis, 'layers'> | null {
    return this.totals;
  }

  add(index: number, layer: AnalyzedLayer): void {
    this.layers.set(index, layer);
  }

  finish(analysis: ModelAnalysis): void {
    const { layers, ...totals } = analysis;
    layers.forEach((l, i) => this.layers.set(i, l));
    this.totals = totals;
  }

  layer(index: number): AnalyzedLayer | undefined {
    return this.layers.get(index);
  }

  /** The number of exact zeros of a weight (by name), when its layer is analyzed. */
  zerosOf(weight: string): number | undefined {
    // Indexed once per set of analyzed layers (layers stream in; the index follows).
    if (this.zeros?.from !== this.layers.size) {
      const byName = new Map<string, number>();
      for (const layer of this.layers.values()) {
        for (const w of layer.weights) if (w.stats) byName.set(w.name, Math.round(w.stats.zeroFraction * w.elements));
      }
      this.zeros = { from: this.layers.size, byName };
    }
    return this.zeros.byName.get(weight);
  }

  private zeros?: { from: number; byName: Map<string, number> };

  /** The messages that bring a webview that just loaded up to date. */
  replay(): ToWebview[] {
    const out: ToWebview[] = [];
    const entries = [...this.layers].sort((a, b) => a[0] - b[0]);
    for (let i = 0; i < entries.length; i += REPLAY_BATCH) {
      out.push({ type: 'layers', version: this.version, layers: entries.slice(i, i + REPLAY_BATCH).map(([index, layer]) => ({ index, layer: tableLayer(layer) })) });
    }
    if (this.totals) out.push({ type: 'analysis', analysis: this.totals, version: this.version });
    return out;
  }

  /**
   * The form's preview on the named layers (or all): analyzed layers in full, the others as
   * summarized. `fit` keeps only the layers the step can take (stepFit).
   */
  preview(step: Record<string, unknown>, names: readonly string[] | '*', summary: readonly LayerSummary[], fit?: ReadonlySet<string>): StepPreview {
    const wanted = names === '*' ? null : new Set(names);
    const layers: PreviewLayer[] = [];
    summary.forEach((l, index) => {
      const name = qualifiedLayerName(l);
      if ((!wanted || wanted.has(name)) && (!fit || fit.has(name))) layers.push(this.layers.get(index) ?? { weights: l.weights });
    });
    return previewStep(step, layers);
  }
}
