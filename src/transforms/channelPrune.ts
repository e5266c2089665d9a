import type { PruneStep } from './recipe';
import { skip, type TransformContext, type TransformOutcome } from './transform';

export async function pruneChannels(ctx: TransformContext, _step: PruneStep): Promise<TransformOutcome> {
  return { changed: [], skipped: ctx.layers.map((l) => skip(l, 'channel pruning is not built yet')) };
}
