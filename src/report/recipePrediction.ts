/**
 * What a recipe would do to a model, step by step, found by doing it in memory (not estimated:
 * later steps see what earlier ones did). The file is never written. Pure: the recipe editor's
 * code lenses and tests call it.
 */
import { ModelSession } from '../transforms/modelSession';
import type { RecipeStep } from '../transforms/recipe';
import type { TransformServices } from '../transforms/transform';
import { noOpNotice } from '../transforms/noOp';
import { editView } from './editView';
import type { EditView } from './compressionReport';

export type StepPrediction = { readonly edit: EditView } | { readonly unchanged: string } | { readonly error: string };

/** Applies `steps` in order to the model in `file`; a step that fails stops the ones after it (they get no entry). */
export async function predictRecipe(file: string, steps: readonly RecipeStep[], signal?: AbortSignal, services?: TransformServices): Promise<StepPrediction[]> {
  const session = ModelSession.open(file);
  const out: StepPrediction[] = [];
  for (const step of steps) {
    try {
      const computed = await session.compute(step, signal, services);
      const unchanged = noOpNotice(computed.label, computed.result);
      if (unchanged) {
        out.push({ unchanged });
        continue;
      }
      session.commit(computed, step);
      out.push({ edit: editView(computed) });
    } catch (e) {
      if ((e as Error).name === 'AbortError') throw e;
      out.push({ error: (e as Error).message });
      break;
    }
  }
  return out;
}
