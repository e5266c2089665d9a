/**
 * A plan to an accuracy budget, measured rather than estimated: the layers in ranked order (least
 * added noise per byte saved first), the combined plan applied and evaluated against the original
 * in onnxruntime, and backed off (a binary search over how many of the ranked layers to take)
 * until the measured verdict passes. Layers interact, so the per-layer estimate is not trusted.
 */
import { saveTempModel } from '../core/onnx/tempModel';
import { applyStep, storedBytes } from '../transforms/apply';
import type { ModelState } from '../transforms/transform';
import { stepToJson, type RecipeStep } from '../transforms/recipe';
import { judge, type Budget, type BudgetCheck } from './budgets';
import type { DatasetSpec } from './dataset';
import type { OrtProcess } from './ortProcess';
import type { Task } from './taskChoice';

export interface PlanTrial {
  /** How many of the ranked layers were taken. */
  readonly layers: number;
  readonly weightBytesAfter: number;
  readonly pass: boolean;
  readonly verdict: string;
  /** The figures judged, with their intervals. */
  readonly checks: readonly BudgetCheck[];
}

export interface BudgetPlan {
  /** The largest prefix of the ranked layers whose measured verdict passes (empty when none does). */
  readonly layers: readonly string[];
  readonly weightBytesAfter: number;
  /** The verdict measured on the plan itself. */
  readonly verdict: string;
  readonly pass: boolean;
  /** Every combination evaluated, in the order tried. */
  readonly trials: readonly PlanTrial[];
  /** The recipe step that applies the plan. */
  readonly step: Record<string, unknown>;
}

export interface BudgetPlanOptions {
  readonly step: RecipeStep;
  readonly dataset: DatasetSpec;
  readonly limit: number;
  readonly batchSize: number;
  readonly threads: number;
  readonly budgets: readonly Budget[];
  /** 'lm': the plans are judged on next-token agreement, as the layers were ranked. */
  readonly task?: 'lm';
  readonly outputTasks?: Readonly<Record<string, Task>>;
  readonly signal?: AbortSignal;
  readonly onTrial?: (trial: PlanTrial) => void;
}

export async function planToBudget(state: ModelState, baselineFile: string, ranked: readonly string[], options: BudgetPlanOptions, runner: OrtProcess): Promise<BudgetPlan> {
  const trials: PlanTrial[] = [];
  const before = storedBytes(state);
  const tryPrefix = async (k: number): Promise<PlanTrial> => {
    if (k === 0) return { layers: 0, weightBytesAfter: before, pass: true, verdict: 'nothing transformed: the original itself', checks: [] };
    const edit = await applyStep(state, { ...options.step, layers: ranked.slice(0, k), exclude: [] }, options.signal);
    const candidate = await saveTempModel(edit.after, 'budget-plan', 'candidate.onnx');
    try {
      const { result } = await runner.run(
        { kind: 'evaluate', candidate: candidate.file, baseline: baselineFile, dataset: options.dataset, limit: options.limit, batchSize: options.batchSize, threads: options.threads, optimization: 'all', task: options.task, outputTasks: options.outputTasks },
        undefined,
        options.signal,
      );
      const verdict = judge(result, options.budgets);
      const trial = { layers: k, weightBytesAfter: storedBytes(edit.after), pass: verdict.pass, verdict: verdict.line, checks: verdict.checks };
      trials.push(trial);
      options.onTrial?.(trial);
      return trial;
    } finally {
      candidate.dispose();
    }
  };
  // All ranked layers first; if that misses the budget, binary-search the largest prefix that meets it.
  let best = await tryPrefix(ranked.length);
  if (!best.pass) {
    let lo = 0; // a prefix known to pass (none taken)
    let hi = ranked.length; // a prefix known to fail
    best = { layers: 0, weightBytesAfter: before, pass: true, verdict: 'no layer can be transformed within the budget', checks: [] };
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      const trial = await tryPrefix(mid);
      if (trial.pass) {
        lo = mid;
        best = trial;
      } else hi = mid;
    }
  }
  const layers = ranked.slice(0, best.layers);
  return { layers, weightBytesAfter: best.weightBytesAfter, verdict: best.verdict, pass: best.pass, trials, step: stepToJson({ ...options.step, layers: [...layers], exclude: [] }) };
}
