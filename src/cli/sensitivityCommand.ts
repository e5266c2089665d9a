/** `onnx-compress sensitivity MODEL --transform '{...}' [data options] [--target-bytes N | --target-ratio R] [--plan FILE] [--json]` */
import { saveText } from '../core/onnx/saveFiles';
import { analyzeSensitivity, type SensitivityResult } from '../eval/sensitivity';
import { OrtProcess } from '../eval/ortProcess';
import { openModel } from '../core/onnx/model';
import { stateOf, storedBytes } from '../transforms/apply';
import type { DatasetSpec } from '../eval/dataset';
import type { RecipeStep } from '../transforms/recipe';
import { humanBytes, plural, splitVerdict } from '../shared/format';
import { table } from '../report/format';
import type { Budget } from '../eval/budgets';
import type { Task } from '../eval/taskChoice';

export interface SensitivityCommandOptions {
  step: RecipeStep;
  dataset: DatasetSpec;
  limit: number;
  batchSize: number;
  threads: number;
  targetBytes?: number;
  /** Target as a fraction of the current weight bytes. */
  targetRatio?: number;
  /** Where to write the plan as a recipe. */
  planFile?: string;
  /** Accuracy budgets the plan must meet, measured on the combined plan. */
  budgets?: Budget[];
  json: boolean;
  /** 'lm': rank by the perplexity each layer adds. */
  task?: 'lm';
  /** Per output name ('*' for all): the task whose metrics fit it. */
  outputTasks?: Record<string, Task>;
}

export interface SensitivityReport extends SensitivityResult {
  /** Why the plan takes no layer (then no --plan file is written and the CLI exits 3). */
  readonly nothingPlanned?: string;
}

export async function runSensitivity(file: string, options: SensitivityCommandOptions, out: (t: string) => void, progress?: (line: string) => void): Promise<SensitivityReport> {
  let targetBytes = options.targetBytes;
  if (options.targetRatio !== undefined) {
    const m = openModel(file);
    targetBytes = Math.floor(storedBytes(stateOf(m.proto, m.dir)) * options.targetRatio);
  }
  const runner = new OrtProcess();
  let result: SensitivityResult;
  try {
    result = await analyzeSensitivity(
      file,
      {
        step: options.step, dataset: options.dataset, limit: options.limit, batchSize: options.batchSize, threads: options.threads, targetBytes, budgets: options.budgets, task: options.task, outputTasks: options.outputTasks,
        onProgress: (done, total, layer) => progress?.(`${done}/${total} layers ${layer}`),
        onTrial: (t) => progress?.(`plan with ${plural(t.layers, 'layer')}: ${t.pass ? 'PASS' : 'FAIL'}`),
      },
      runner,
    );
  } finally {
    runner.dispose();
  }
  const why = nothingPlanned(result, targetBytes);
  const report: SensitivityReport = why ? { nothingPlanned: why + (options.planFile ? `; ${options.planFile} not written` : ''), ...result } : result;
  if (options.planFile && !why) await saveText(options.planFile, JSON.stringify({ version: 1, steps: [result.plan.step] }, null, 2) + '\n');
  out(options.json ? JSON.stringify(report, null, 2) : sensitivityText(report, targetBytes));
  return report;
}

/** Why the plan is empty, or undefined when it takes a layer. */
function nothingPlanned(r: SensitivityResult, targetBytes: number | undefined): string | undefined {
  if (r.plan.layers.length) return undefined;
  const useful = r.layers.filter((l) => !l.skipped && l.bytesSaved > 0).length;
  if (!useful) return `nothing planned: none of the ${r.layers.length} layers can take this step (the reasons are in the table)`;
  if (r.plan.budget) return `nothing planned: none of the ${useful} layers that can take this step fits the budget (the plans tried are listed)`;
  return `nothing planned: the weights (${humanBytes(r.weightBytes)}) already meet the target${targetBytes !== undefined ? ` of ${humanBytes(targetBytes)}` : ''}`;
}

function sensitivityText(r: SensitivityReport, targetBytes: number | undefined): string {
  const lm = r.baselinePerplexity !== undefined;
  const lines = [`${r.description}; each layer transformed alone, least harmful first${lm ? ` (by perplexity; ${r.baselinePerplexity!.toFixed(3)} untransformed)` : ''}`];
  const signed = (v: number): string => `${v >= 0 ? '+' : ''}${v.toFixed(4)}`;
  lines.push(
    table(
      ['layer', 'op', 'saves', lm ? 'perplexity' : 'output SQNR', 'agreement'],
      r.layers.map((l) => [
        l.layer, l.opType, l.skipped ? '—' : humanBytes(l.bytesSaved),
        l.skipped ? `skipped: ${l.skipped}` : lm ? signed(l.perplexityDelta ?? 0) : l.sqnrDb === null ? 'exact' : `${l.sqnrDb.toFixed(1)} dB`,
        l.skipped ? '' : `${(l.agreement * 100).toFixed(1)}%`,
      ]),
      new Set([2]),
    ),
  );
  const p = r.plan;
  lines.push(
    `plan: ${plural(p.layers.length, 'layer')}, weights ${humanBytes(r.weightBytes)} → ${humanBytes(p.weightBytesAfter)}` +
      `${targetBytes !== undefined ? ` (target ${humanBytes(targetBytes)}: ${p.meetsTarget ? 'met' : 'not reachable with this transform'})` : ''}` +
      (p.estimatedPerplexity !== undefined ? `, estimated perplexity ${p.estimatedPerplexity.toFixed(3)}` : `, estimated output SQNR ${p.estimatedSqnrDb === null ? 'exact' : `${p.estimatedSqnrDb.toFixed(1)} dB`}`),
  );
  if (p.budget) {
    const b = p.budget;
    const { word, rest } = splitVerdict(b.verdict);
    if (!r.nothingPlanned) lines.unshift(`${word || (b.pass ? 'PASS' : 'FAIL')}: plan of ${b.layers.length} of ${r.layers.filter((l) => !l.skipped && l.bytesSaved > 0).length} layers, weights ${humanBytes(r.weightBytes)} → ${humanBytes(b.weightBytesAfter)}, measured: ${rest}`);
    lines.push(
      'combined plans evaluated (layers taken in ranked order, backed off until the budget passes):',
      ...b.trials.map((t) => `  ${plural(t.layers, 'layer')}, weights ${humanBytes(t.weightBytesAfter)}: ${t.verdict}`),
    );
  }
  if (r.synthetic) lines.push('No data given: these figures are fidelity on synthetic inputs, not accuracy.');
  if (r.languageModel) lines.push(`Ranked as a language model: ${r.languageModel}.`);
  if (r.nothingPlanned) lines.unshift(r.nothingPlanned);
  return lines.join('\n');
}
