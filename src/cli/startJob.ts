/**
 * `npm start`'s job (scripts/start.mjs names the model and the recipe): analyze the model,
 * compress it with the recipe, check the result against the original in onnxruntime, print what
 * each step says, and write the whole story, verdict first, as one Markdown report.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runAnalyze } from './analyzeCommand';
import { runApply } from './applyCommand';
import { runEval } from './evalCommand';
import { jobReportMarkdown } from '../report/jobReport';
import { progressWriter } from './progress';

export interface StartJob {
  readonly model: string;
  readonly recipe: string;
  readonly output: string;
  readonly report: string;
  /** Synthetic inputs: no labelled data ships with the sample. */
  readonly samples: number;
  /** Input shapes, for the synthetic inputs and the analysis's MACs. */
  readonly shapes: Record<string, number[]>;
}

export async function runStartJob(job: StartJob): Promise<void> {
  const progress = progressWriter(process.stderr);
  const print = (text: string): void => {
    progress.done(); // results start on a clean line
    process.stdout.write(`${text}\n`);
  };
  fs.mkdirSync(path.dirname(path.resolve(job.output)), { recursive: true });
  const analysis = await runAnalyze(job.model, { json: false, redundancy: true, dims: {}, inputShapes: job.shapes, onProgress: progress.update }, print);
  const applied = await runApply(job.model, { recipe: job.recipe, output: job.output, json: false }, print, print, progress.update);
  if (applied.output === null) throw new Error(`${job.recipe} changed nothing in ${job.model}`);
  const evaluation = await runEval(
    job.output,
    { baseline: job.model, dataset: { kind: 'synthetic', samples: job.samples, seed: 1, shapes: job.shapes }, batchSize: 8, threads: 1, optimization: 'all', timeoutSeconds: 3600, json: false },
    print,
    progress.update,
  );
  fs.mkdirSync(path.dirname(path.resolve(job.report)), { recursive: true });
  fs.writeFileSync(
    job.report,
    jobReportMarkdown({
      analysis,
      recipe: job.recipe,
      compression: { ...applied, output: path.relative(process.cwd(), applied.output) },
      labels: applied.labels,
      evaluation,
    }),
  );
  print(`\nwrote ${job.report} and ${job.output}`);
}
