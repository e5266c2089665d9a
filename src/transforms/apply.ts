/**
 * Applying recipe steps to a model state. A step computes a patch against the current model
 * and applies it by path copying, so the state before the step is untouched: an edit is the
 * pair (before, after), and undo is going back to `before`, byte for byte.
 */
import { stateOf, storedBytes } from './stateOf';
import { attributeLayers } from '../analyzers/layers';
import { ModelPatch, applyPatch } from './patch';
import { NameAllocator } from './names';
import { selectLayers } from './targets';
import { stepToJson, type RecipeStep } from './recipe';
import type { LayerChange, LayerSkip, ModelState, TransformContext, TransformOutcome, TransformServices } from './transform';
import { quantizeLayers } from './quantize';
import { quantizeStatic } from './staticQuantize';
import { pruneLayers } from './prune';
import { clusterLayers } from './cluster';
import { factorizeLayers } from './factorize';
import { maskedView } from './maskedView';
import { TRANSFORMS } from '../shared/stepSpec';

export interface StepResult {
  readonly transform: RecipeStep['transform'];
  /** The step with every parameter spelled out, as a recipe would record it. */
  readonly step: Record<string, unknown>;
  readonly changed: readonly LayerChange[];
  readonly skipped: readonly LayerSkip[];
  readonly notes: readonly string[];
  /** Bytes of all stored tensors in the model before and after the step. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

export interface Edit {
  readonly label: string;
  readonly before: ModelState;
  readonly after: ModelState;
  readonly result: StepResult;
}

export { stateOf, storedBytes };

function run(ctx: TransformContext, step: RecipeStep): Promise<TransformOutcome> {
  switch (step.transform) {
    case 'quantize':
      return step.mode === 'static' ? quantizeStatic(ctx, step) : quantizeLayers(ctx, step);
    case 'prune':
      return pruneLayers(ctx, step);
    case 'cluster':
      return clusterLayers(ctx, step);
    case 'factorize':
      return factorizeLayers(ctx, step);
  }
}

/** The edit's label (the undo menu's "Undo …"): the transform's verb from the specification, then what it did. */
export function describeStep(step: RecipeStep): string {
  const what = step.layers === '*' ? 'all layers' : step.layers.length === 1 ? step.layers[0] : `${step.layers.length} layers`;
  const verb = `${TRANSFORMS[step.transform].label} ${what}`;
  switch (step.transform) {
    case 'quantize':
      if (step.mode === 'static') return `${verb} statically (int8 ${step.granularity} weights, uint8 activations, ${step.calibration?.method} calibration)`;
      return `${verb} to ${step.dtype}${step.dtype === 'float16' ? '' : ` ${step.granularity}`}${step.method === 'gptq' ? ' by GPTQ' : ''}${step.format === 'matmulnbits' ? ' as MatMulNBits' : ''}`;
    case 'prune':
      return `${verb} ${step.pattern === 'unstructured' || step.pattern === 'channel' ? `${Math.round(step.sparsity * 100)}% ${step.pattern}` : step.pattern}`;
    case 'cluster':
      return `${verb} into ${step.clusters}`;
    case 'factorize':
      return `${verb} at ${step.rank !== undefined ? `rank ${step.rank}` : `${Math.round((step.energy ?? 1) * 1000) / 10}% energy`}`;
  }
}

export async function applyStep(before: ModelState, step: RecipeStep, signal?: AbortSignal, services?: TransformServices): Promise<Edit> {
  // Masked weights (a masked prune) are transformed as the dense weights they stand for.
  const view = maskedView(before);
  const working = view?.state ?? before;
  const attribution = attributeLayers(working.index);
  const patch = new ModelPatch();
  let last = Date.now();
  const ctx: TransformContext = {
    state: working,
    services,
    layers: selectLayers(attribution, step.layers, step.exclude),
    patch,
    names: new NameAllocator(working.index),
    checkpoint: async () => {
      signal?.throwIfAborted();
      if (Date.now() - last > 50) {
        await new Promise((resolve) => setImmediate(resolve));
        last = Date.now();
        signal?.throwIfAborted();
      }
    },
  };
  const outcome = await run(ctx, step);
  // A transform works through a patch of `before`, or (layer after layer) hands back its result.
  const proto = outcome.state ? outcome.state.proto : applyPatch(working.proto, patch);
  const computed = proto === working.proto ? before : (outcome.state ?? stateOf(proto, before.dir));
  const after = view && computed !== before ? view.restore(computed) : computed;
  const changed = view ? outcome.changed.map((c) => ({ ...c, tensors: c.tensors.map((t) => ({ ...t, bytesBefore: view.maskedBytes.get(t.tensor) ?? t.bytesBefore })) })) : outcome.changed;
  return {
    label: describeStep(step),
    before,
    after,
    result: {
      transform: step.transform,
      step: stepToJson(step),
      changed,
      skipped: outcome.skipped,
      notes: outcome.notes ?? [],
      bytesBefore: storedBytes(before),
      bytesAfter: storedBytes(after),
    },
  };
}

/** Applies steps in order; each sees the model the previous one produced. */
export async function applyRecipe(
  state: ModelState,
  steps: readonly RecipeStep[],
  signal?: AbortSignal,
  services?: TransformServices,
  /** Told before each step starts (index from 0): a step over a large model can take a while. */
  onStep?: (index: number, step: RecipeStep) => void,
): Promise<Edit[]> {
  const edits: Edit[] = [];
  for (const step of steps) {
    onStep?.(edits.length, step);
    const edit = await applyStep(state, step, signal, services);
    edits.push(edit);
    state = edit.after;
  }
  return edits;
}
