/** `onnx-compress eval MODEL [--baseline BASE.onnx] [--data DATA | --images ROOT ...] [--json]` */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OnnxError } from '../core/errors';
import { OrtProcess } from '../eval/ortProcess';
import type { DatasetSpec } from '../eval/dataset';
import type { EvaluationResult, ModelRun } from '../eval/protocol';
import { humanBytes } from '../shared/format';
import { table } from '../report/format';
import { pct } from '../report/reportRows';
import type { Task } from '../eval/taskChoice';
import { judge, type Budget, type Verdict } from '../eval/budgets';
import { tasksText } from '../report/taskText';
import { compareSpeed, speedText, weightWidening, type SpeedComparison } from '../eval/latencyCause';
import { externalBytes, openModel, type OnnxModel } from '../core/onnx/model';
import { chooseTask } from '../eval/lmDetect';
import { lmText } from '../report/lmText';

export interface EvalOptions {
  baseline?: string;
  dataset: DatasetSpec;
  limit?: number;
  batchSize: number;
  threads: number;
  optimization: 'disabled' | 'basic' | 'extended' | 'all';
  /** Execution providers tried before the CPU one (e.g. cuda); one that cannot start leaves the CPU one, with a note. */
  providers?: string[];
  /** 'lm': language-model perplexity instead of the per-output task metrics. */
  task?: 'lm';
  /** Per output name ('*' for all): the task whose metrics fit it, instead of the one chosen from its shape and values. */
  outputTasks?: Record<string, Task>;
  /** Budgets the candidate must meet; a miss is a FAIL (exit code 1). */
  budgets?: Budget[];
  timeoutSeconds: number;
  json: boolean;
}

export interface EvalReport extends EvaluationResult {
  /** PASS or FAIL against the budgets given (absent without budgets). */
  readonly verdict?: Verdict;
  /** Candidate against baseline per batch, and why it is slower when its graph says. */
  readonly speed?: SpeedComparison;
  readonly candidate: ModelRun & ModelBytes;
  readonly baseline?: ModelRun & ModelBytes;
}

/** The model file's bytes, and its side files' tensors (external data) apart. */
interface ModelBytes {
  readonly fileBytes: number;
  readonly dataBytes: number;
}

function modelBytes(model: OnnxModel): ModelBytes {
  return { fileBytes: model.bytes.length, dataBytes: externalBytes(model.index) };
}

function opened(file: string): OnnxModel {
  if (!fs.existsSync(file)) throw new OnnxError('io', 'cannot be read', file);
  return openModel(file);
}

export async function runEval(file: string, options: EvalOptions, out: (text: string) => void, progress?: (line: string) => void): Promise<EvalReport> {
  // Read once for its size and graph, and let go before onnxruntime runs (a model can be GBs).
  const { candidateBytes, widening, chosen } = ((m: OnnxModel) => ({
    candidateBytes: modelBytes(m),
    widening: weightWidening(m.proto),
    // A language model's logits are next-token predictions, not CTC steps: scored as one unless a task is given.
    chosen: chooseTask(m.proto, options.task, options.outputTasks),
  }))(opened(file));
  const { task, why: detected } = chosen;
  const baselineBytes = options.baseline ? modelBytes(opened(options.baseline)) : undefined;
  const runner = new OrtProcess();
  let result: EvaluationResult;
  try {
    const reply = await runner.run(
      {
        kind: 'evaluate',
        candidate: path.resolve(file),
        baseline: options.baseline && path.resolve(options.baseline),
        dataset: options.dataset,
        limit: options.limit,
        batchSize: options.batchSize,
        threads: options.threads,
        optimization: options.optimization,
        providers: options.providers,
        task,
        outputTasks: options.outputTasks,
      },
      (done, total, rate) => progress?.(`${done}/${total} samples${rate ? `, ${rate.toFixed(1)}/s` : ''}`),
      undefined,
      options.timeoutSeconds * 1000,
    );
    result = reply.result;
  } finally {
    runner.dispose();
  }
  if (detected && result.lm) result = { ...result, lm: { ...result.lm, why: detected } };
  const { baseline, ...rest } = result;
  const verdict = options.budgets?.length ? judge(result, options.budgets) : undefined;
  const speed = baseline ? compareSpeed(result.candidate.latencyMs.median, baseline.latencyMs.median, widening) : undefined;
  const report: EvalReport = {
    ...(verdict ? { verdict } : {}),
    ...rest,
    ...(speed ? { speed } : {}),
    candidate: { ...result.candidate, ...candidateBytes },
    ...(baseline && baselineBytes !== undefined ? { baseline: { ...baseline, ...baselineBytes } } : {}),
  };
  // Per-window sums stay with the caller (paired comparisons); the printed report keeps the totals.
  const printed = report.lm?.windows ? { ...report, lm: { ...report.lm, windows: undefined } } : report;
  out(options.json ? JSON.stringify(printed, null, 2) : evalText(report));
  return report;
}


function evalText(r: EvalReport): string {
  const lines = [...(r.verdict ? [r.verdict.line] : []), ...(r.providerNote ? [r.providerNote] : []), `${r.description}; batch ${r.batchSize}`];
  const runs = [...(r.baseline ? [['baseline', r.baseline] as const] : []), ['candidate', r.candidate] as const];
  const labelled = runs.some(([, m]) => m.accuracy !== undefined);
  const top5 = runs.some(([, m]) => m.top5 !== undefined);
  const ms = (v: number): string => `${v.toFixed(2)} ms`;
  lines.push(
    table(
      ['model', ...(labelled ? ['top-1'] : []), ...(top5 ? ['top-5'] : []), `per batch of ${r.batchSize}: median`, 'p90', 'per sample', 'samples/s', 'file'],
      runs.map(([name, m]) => [
        name,
        ...(labelled ? [pct(m.accuracy)] : []),
        ...(top5 ? [pct(m.top5)] : []),
        ms(m.latencyMs.median),
        ms(m.latencyMs.p90),
        ms(m.samplesPerSecond > 0 ? 1000 / m.samplesPerSecond : NaN),
        m.samplesPerSecond.toFixed(1),
        humanBytes(m.fileBytes) + (m.dataBytes ? ` + ${humanBytes(m.dataBytes)} external data` : ''),
      ]),
      new Set(Array.from({ length: 5 + Number(labelled) + Number(top5) }, (_, i) => i + 1)),
    ),
  );
  if (r.speed) lines.push(speedText(r.speed));
  if (r.peakRssBytes) lines.push(`peak memory of the onnxruntime process: ${humanBytes(r.peakRssBytes)}`);
  if (r.lm) lines.push(lmText(r.lm));
  else if (r.tasks?.length) lines.push(...tasksText(r.tasks));
  if (r.accuracyDelta) {
    const d = r.accuracyDelta;
    const noise = d.ci95[0] <= 0 && d.ci95[1] >= 0;
    lines.push(
      `accuracy change ${(d.value * 100).toFixed(2)} pt, 95% CI [${(d.ci95[0] * 100).toFixed(2)}, ${(d.ci95[1] * 100).toFixed(2)}] pt ` +
        `(McNemar p = ${d.pValue.toPrecision(3)}; ${noise ? 'within noise' : 'a real difference'})`,
    );
  }
  if (r.outputs?.length && !r.tasks?.length) {
    lines.push(
      table(
        ['output', 'max |err|', 'mean |err|', 'SQNR', 'cosine', 'KL'],
        r.outputs.map((o) => [o.name, o.maxAbsError.toPrecision(4), o.meanAbsError.toPrecision(4), o.sqnrDb === null ? 'exact' : `${o.sqnrDb.toFixed(1)} dB`, o.cosine.toFixed(6), o.klDivergence.toPrecision(4)]),
        new Set([1, 2, 3, 4, 5]),
      ),
    );
  }
  if (r.synthetic) lines.push('No data given: these figures are fidelity on synthetic inputs, not accuracy.');
  return lines.join('\n');
}
