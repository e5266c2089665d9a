/**
 * A step that changed no layer is not an edit: the CLI writes nothing and the editor records no
 * undo entry. These say so, with each layer's reason, in the same words everywhere.
 */
import type { StepResult } from './apply';
import type { LayerSkip } from './transform';

/** True when no step changed any layer (steps that only skip leave the model as it was). */
export function changedNothing(results: readonly StepResult[]): boolean {
  return results.every((r) => r.changed.length === 0);
}

function layers(n: number): string {
  return `${n} layer${n === 1 ? '' : 's'}`;
}

/** "nothing changed: 0 of 4 layers could take step 1 (Prune all layers 2:4)", one clause per step. */
export function nothingChangedLine(results: readonly StepResult[], labels: readonly string[]): string {
  const parts = results.map((r, i) => `0 of ${layers(r.skipped.length)} could take step ${i + 1} (${labels[i]})`);
  return `nothing changed: ${parts.length ? parts.join('; ') : 'the recipe has no steps'}`;
}

/**
 * One line per skipped layer, at most `max` lines and then "and N more" (layers). Layers of one
 * op type skipped for the same reason share a line when there are more than three of them: a
 * transformer's 96 Adds are one line, not 96.
 */
export function skipLines(skipped: readonly LayerSkip[], max = Infinity): string[] {
  const groups = new Map<string, LayerSkip[]>();
  for (const k of skipped) {
    const key = `${k.opType}\u0000${k.reason}`;
    const group = groups.get(key);
    if (group) group.push(k);
    else groups.set(key, [k]);
  }
  const entries = [...groups.values()].flatMap((g) => (g.length > 3 ? [g] : g.map((k) => [k])));
  const lines = entries.slice(0, max).map((g) =>
    g.length === 1 ? `${g[0].layer} (${g[0].opType}): ${g[0].reason}` : `${g.length} ${g[0].opType} layers (${g[0].layer}, ${g[1].layer}, …): ${g[0].reason}`,
  );
  const rest = entries.slice(max).reduce((n, g) => n + g.length, 0);
  if (rest > 0) lines.push(`and ${rest} more`);
  return lines;
}

/**
 * What the editor says instead of recording an edit that changed no layer; undefined when the
 * edit changed something (then it is a real edit).
 */
export function noOpNotice(label: string, result: StepResult, max = 5): string | undefined {
  if (result.changed.length > 0) return undefined;
  if (result.skipped.length === 0) return `Nothing changed: no layer to apply "${label}" to.`;
  return `Nothing changed: 0 of ${layers(result.skipped.length)} could take "${label}". ${skipLines(result.skipped, max).join('; ')}.`;
}
