/**
 * The answer to the form's preview request: the estimate on the layers the step can take, why it
 * can take none (then Apply is disabled), and the same for each preset of its transform (a
 * preset that can take none is disabled). Pure (no vscode).
 */
import type { Layer } from '../analyzers/layers';
import type { LayerSummary } from '../analyzers/modelSummary';
import { layerName } from '../transforms/targets';
import { stepFit } from '../transforms/stepFit';
import { presetsFor } from '../shared/presets';
import type { ToWebview } from '../shared/protocol';
import type { ShownAnalysis } from './shownAnalysis';
import type { StepPreview } from '../analyzers/stepPreview';
import type { ModelState } from '../transforms/transform';
import { plannedBytes } from '../transforms/plannedBytes';
import { parseStep } from '../transforms/recipe';

export function formPreview(
  id: number,
  step: Record<string, unknown>,
  names: readonly string[] | '*',
  shown: ShownAnalysis,
  summary: readonly LayerSummary[],
  modelLayers: readonly Layer[],
  state?: ModelState,
): Extract<ToWebview, { type: 'preview' }> {
  const wanted = names === '*' ? null : new Set(names);
  const target = wanted ? modelLayers.filter((l) => wanted.has(layerName(l))) : modelLayers;
  const selected = wanted !== null;
  const fit = stepFit(step, target, selected);
  const presets = presetsFor(String(step.transform)).map((p) => stepFit(p.step, target, selected).reason ?? null);
  const estimate = shown.preview(step, names, summary, new Set(fit.layers));
  const preview = state && !fit.reason ? withPlannedBytes(estimate, step, state, target.filter((l) => fit.layers.includes(layerName(l))), shown) : estimate;
  return { type: 'preview', id, preview, ...(fit.reason ? { cannot: fit.reason } : {}), presets };
}

/** The bytes the transforms will write (transforms/plannedBytes.ts) in place of the analysis's estimate, where they can be planned. */
function withPlannedBytes(p: StepPreview, step: Record<string, unknown>, state: ModelState, layers: readonly Layer[], shown: ShownAnalysis): StepPreview {
  let parsed;
  try {
    parsed = parseStep(step);
  } catch {
    return p;
  }
  const planned = plannedBytes(state, parsed, layers, (t) => shown.zerosOf(t.name));
  if (planned.length !== layers.length || planned.length === 0) return p;
  const bytesBefore = planned.reduce((n, l) => n + l.bytesBefore, 0);
  const bytesAfter = planned.reduce((n, l) => n + l.bytesAfter, 0);
  return { ...p, bytesBefore, bytesAfter, bytesExact: planned.every((l) => l.exact) };
}
