/**
 * Accuracy budgets and the verdict they give: `--max-drop 1pt` (accuracy against labels, else
 * agreement with the baseline, may fall by at most that), `--min-agreement 0.99`, `--min-sqnr 30`,
 * each for every output or for one (`--min-sqnr logits=30`). The verdict is decided on the
 * measured figure; its 95% interval is shown beside it, and an interval that straddles the limit
 * is said to (more samples would settle it).
 */
import type { EvaluationResult } from './protocol';
import type { Figure } from './ratioFigure';

export type BudgetKind = 'max-drop' | 'min-agreement' | 'min-sqnr';

export interface Budget {
  readonly kind: BudgetKind;
  /** One output's name; absent: every output the budget fits. */
  readonly output?: string;
  /** max-drop and min-agreement as a share (0.01 = 1 point); min-sqnr in dB. */
  readonly limit: number;
}

export interface BudgetCheck {
  readonly budget: Budget;
  /** The output judged, or 'accuracy' / 'next-token' for model-wide figures. */
  readonly output: string;
  readonly figure: string;
  readonly value: number;
  readonly ci95?: readonly [number, number];
  readonly scale: Figure['scale'];
  readonly pass: boolean;
  /** The interval lies on both sides of the limit. */
  readonly uncertain: boolean;
  /** Why the figure measures nothing on these inputs: such a check never passes. */
  readonly unmeasured?: string;
}

export interface Verdict {
  readonly pass: boolean;
  readonly checks: readonly BudgetCheck[];
  /** The one line reports open with. */
  readonly line: string;
}

/** Parses a budget's value: "1pt", "1%", "0.5" (points) for max-drop; "0.99" or "99%" for min-agreement; "30" or "30dB" for min-sqnr; each optionally "OUTPUT=VALUE". */
export function parseBudget(kind: BudgetKind, text: string): Budget | string {
  const m = /^(?:(.+)=)?([0-9.]+)\s*(pt|%|dB)?$/i.exec(text.trim());
  const n = m ? Number(m[2]) : NaN;
  const unit = m?.[3]?.toLowerCase();
  const output = m?.[1];
  if (!m || !Number.isFinite(n)) return `--${kind} needs a number${kind === 'max-drop' ? ' of points, e.g. 1pt' : kind === 'min-agreement' ? ', e.g. 0.99 or 99%' : ' of dB, e.g. 30'} (OUTPUT=VALUE for one output), not '${text}'`;
  const at = (limit: number): Budget => ({ kind, limit, ...(output ? { output } : {}) });
  switch (kind) {
    case 'max-drop':
      if (unit === 'db') return '--max-drop is in points (1pt), not dB';
      if (n > 100) return '--max-drop is at most 100pt';
      return at(n / 100);
    case 'min-agreement': {
      if (unit === 'db' || unit === 'pt') return '--min-agreement is a share, e.g. 0.99 or 99%';
      const share = unit === '%' ? n / 100 : n;
      return share > 1 ? '--min-agreement is at most 1 (100%)' : at(share);
    }
    case 'min-sqnr':
      if (unit && unit !== 'db') return '--min-sqnr is in dB, e.g. 30';
      return at(n);
  }
}

const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;

export function figureText(value: number, scale: Figure['scale']): string {
  if (scale === 'share') return pct(value);
  if (scale === 'dB') return Number.isFinite(value) ? `${value.toFixed(1)} dB` : 'exact';
  return value.toPrecision(4);
}

function check(budget: Budget, output: string, f: Pick<Figure, 'name' | 'value' | 'ci95' | 'scale' | 'unmeasured'>, atLeast: number): BudgetCheck {
  if (f.unmeasured) return { budget, output, figure: f.name, value: f.value, scale: f.scale, pass: false, uncertain: false, unmeasured: f.unmeasured };
  const pass = f.value >= atLeast;
  const uncertain = !!f.ci95 && f.ci95[0] < atLeast && f.ci95[1] >= atLeast;
  return { budget, output, figure: f.name, value: f.value, ...(f.ci95 ? { ci95: f.ci95 } : {}), scale: f.scale, pass, uncertain };
}

/** Judges an evaluation against budgets; a budget that fits no output of this model is an error (thrown). */
export function judge(result: EvaluationResult, budgets: readonly Budget[]): Verdict {
  const tasks = result.tasks ?? [];
  const checks: BudgetCheck[] = [];
  // A language model is judged on its next-token predictions: the logits output names them too.
  const lm = result.lm;
  const outputNames = lm ? (lm.output ? [lm.output] : []) : tasks.map((t) => t.name);
  for (const budget of budgets) {
    if (budget.output && !outputNames.includes(budget.output)) {
      throw new Error(`--${budget.kind}: the model has no output '${budget.output}'${lm ? ' judged as a language model' : ''} (its outputs: ${outputNames.join(', ') || 'none compared'})`);
    }
    const outputs = tasks.filter((t) => !budget.output || t.name === budget.output);
    const before = checks.length;
    if (lm && budget.kind === 'min-sqnr') {
      throw new Error('--min-sqnr has nothing to judge in a language model (--task lm): its budgets are on next-token agreement (--min-agreement, --max-drop)');
    } else if (budget.kind === 'min-sqnr') {
      for (const t of outputs) checks.push(check(budget, t.name, t.sqnr, budget.limit));
    } else if (budget.kind === 'max-drop' && result.accuracyDelta && !budget.output) {
      const d = result.accuracyDelta;
      checks.push(check(budget, 'accuracy', { name: 'top-1 accuracy change', value: d.value, ci95: d.ci95, scale: 'share' }, -budget.limit));
    } else if (lm?.agreement !== undefined) {
      const limit = budget.kind === 'max-drop' ? 1 - budget.limit : budget.limit;
      checks.push(check(budget, 'next-token', { name: 'top-1 agreement', value: lm.agreement, scale: 'share' }, limit));
    } else {
      const limit = budget.kind === 'max-drop' ? 1 - budget.limit : budget.limit;
      for (const t of outputs) checks.push(check(budget, t.name, t.agreement, limit));
    }
    if (checks.length === before) throw new Error(`--${budget.kind} has nothing to judge: ${result.baseline ? 'no output was compared' : 'it needs --baseline'}`);
  }
  const pass = checks.every((c) => c.pass);
  return { pass, checks, line: verdictLine(pass, checks) };
}

function limitText(b: Budget, onAccuracy: boolean): string {
  if (b.kind === 'min-sqnr') return `≥ ${b.limit} dB`;
  if (b.kind === 'min-agreement') return `≥ ${pct(b.limit)}`;
  const drop = `${(b.limit * 100).toFixed(2)} pt`;
  return onAccuracy ? `drop ≤ ${drop}` : `≥ ${pct(1 - b.limit)} (a drop of at most ${drop} from the baseline's own answers)`;
}

export function checkText(c: BudgetCheck): string {
  if (c.unmeasured) return `${c.output} ${c.figure} cannot be judged: ${c.unmeasured}`;
  const ci = c.ci95 ? ` (95% CI ${figureText(c.ci95[0], c.scale)} to ${figureText(c.ci95[1], c.scale)})` : '';
  const onAccuracy = c.budget.kind === 'max-drop' && c.output === 'accuracy';
  const value = onAccuracy ? `${(c.value * 100).toFixed(2)} pt` : figureText(c.value, c.scale);
  return `${c.output} ${c.figure} ${value}${ci} ${c.pass ? 'meets' : 'misses'} ${limitText(c.budget, onAccuracy)}${c.uncertain ? ' (the interval straddles the limit)' : ''}`;
}

function verdictLine(pass: boolean, checks: readonly BudgetCheck[]): string {
  const failed = checks.filter((c) => !c.pass);
  const shown = pass ? checks : failed;
  const missed = failed.filter((c) => !c.unmeasured).length;
  // Checks with nothing to measure neither pass nor miss: without a miss the verdict is undecided, still not a PASS.
  const head = pass
    ? `PASS: ${checks.length} budget check${checks.length === 1 ? '' : 's'} met`
    : missed
      ? `FAIL: ${missed} of ${checks.length} budget checks missed`
      : `NO VERDICT: ${failed.length} of ${checks.length} budget checks cannot be judged on these inputs (give inputs on which the baseline finds something)`;
  return `${head}: ${shown.map(checkText).join('; ')}`;
}
