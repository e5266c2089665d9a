/**
 * A language model's figures as lines of text (perplexity of both, its change with an interval,
 * next-token agreement and KL): what `eval --task lm` prints and the editor's accuracy check lists.
 */
import type { LmResult } from '../eval/lmMetrics';
import { pct } from './reportRows';

export function lmText(lm: LmResult): string {
  const ppl = (x: { perplexity: number }): string => x.perplexity.toFixed(3);
  const lines = [...(lm.why ? [`Scored as a language model: ${lm.why}.`] : []), `perplexity ${lm.baseline ? `${ppl(lm.baseline)} → ` : ''}${ppl(lm.candidate)} on ${lm.tokens} predicted tokens`];
  if (lm.perplexityDelta) {
    const d = lm.perplexityDelta;
    // One window gives no spread to resample: the bootstrap's interval is NaN then.
    const interval = Number.isFinite(d.ci95[0]) ? `95% CI [${d.ci95[0].toFixed(3)}, ${d.ci95[1].toFixed(3)}] (bootstrap over windows)` : 'no interval from a single window';
    lines.push(`perplexity change ${d.value >= 0 ? '+' : ''}${d.value.toFixed(3)}, ${interval}`);
  }
  if (lm.agreement !== undefined) lines.push(`next-token top-1 agreement ${pct(lm.agreement)}, KL ${lm.klDivergence!.toPrecision(3)} nats`);
  return lines.join('\n');
}
