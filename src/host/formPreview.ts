/**
 * The answer to the form's preview request: the estimate on the layers the step can take, why it
 * can take none (then Apply is disabled), and the same for each preset of its transform (a
 * preset that can take none is disabled). Pure (no vscode).
 */
import type { Layer } from '../analyzers/layers';
import type { LayerSummary } from '../analyzers/modelSummary';
import { layerName } from '../transforms/targets';
import { stepFit } from '../transforms/stepFit';
import { presetsFor } from '../webviews/presets';
import type { ToWebview } from '../webviews/protocol';
import type { ShownAnalysis } from './shownAnalysis';

export function formPreview(
  id: number,
  step: Record<string, unknown>,
  names: readonly string[] | '*',
  shown: ShownAnalysis,
  summary: readonly LayerSummary[],
  modelLayers: readonly Layer[],
): Extract<ToWebview, { type: 'preview' }> {
  const wanted = names === '*' ? null : new Set(names);
  const target = wanted ? modelLayers.filter((l) => wanted.has(layerName(l))) : modelLayers;
  const selected = wanted !== null;
  const fit = stepFit(step, target, selected);
  const presets = presetsFor(String(step.transform)).map((p) => stepFit(p.step, target, selected).reason ?? null);
  const preview = shown.preview(step, names, summary, new Set(fit.layers));
  return { type: 'preview', id, preview, ...(fit.reason ? { cannot: fit.reason } : {}), presets };
}
