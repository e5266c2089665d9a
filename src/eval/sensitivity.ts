/**
 * Sensitivity analysis: one transform applied to one layer at a time, each result run against the
 * original on the same samples in the onnxruntime process; layers ranked from least to most
 * harmful, and a plan — the layers to transform — that reaches a size target with the least
 * estimated loss (noise-to-signal ratios of independent layers add up). Results are cached per
 * model version (the file's SHA-256), step, data and sample count.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openModel } from '../core/onnx/model';
import { saveTempModel } from '../core/onnx/tempModel';
import { attributeLayers } from '../analyzers/layers';
import { applyStep, stateOf, storedBytes } from '../transforms/apply';
import { stepToJson, type RecipeStep } from '../transforms/recipe';
import { layerName, selectLayers } from '../transforms/targets';
import type { DatasetSpec } from './dataset';
import { OrtProcess } from './ortProcess';
import type { EvaluationResult } from './protocol';
import type { Budget } from './budgets';
import { planToBudget, type BudgetPlan, type PlanTrial } from './budgetPlan';
import { chooseTask } from './lmDetect';
import type { Task } from './taskChoice';

export interface SensitivityOptions {
  readonly step: RecipeStep;
  readonly dataset: DatasetSpec;
  readonly limit: number;
  readonly batchSize: number;
  readonly threads: number;
  /** Weight bytes the plan must reach (at most). */
  readonly targetBytes?: number;
  readonly cacheDir?: string;
  /** Accuracy budgets: the plan is then the most layers whose combined, measured verdict passes. */
  readonly budgets?: readonly Budget[];
  readonly signal?: AbortSignal;
  readonly onProgress?: (done: number, total: number, layer: string) => void;
  /** Each combined plan evaluated against the budgets. */
  readonly onTrial?: (trial: PlanTrial) => void;
  /** 'lm': evaluate as a language model and rank by the perplexity each layer adds (the default for a model whose graph is one). */
  readonly task?: 'lm';
  /** Per output name ('*' for all): the task whose metrics fit it (then the model is not taken for a language model). */
  readonly outputTasks?: Readonly<Record<string, Task>>;
}

export interface LayerSensitivity {
  readonly layer: string;
  readonly opType: string;
  /** Weight bytes of the model saved by transforming this layer alone. */
  readonly bytesSaved: number;
  /** Output SQNR (first output) against the original; null when identical. */
  readonly sqnrDb: number | null;
  readonly agreement: number;
  /** Task 'lm': the model's perplexity with this layer transformed, and its change from the untransformed model's. */
  readonly perplexity?: number;
  readonly perplexityDelta?: number;
  readonly skipped?: string;
}

export interface SensitivityResult {
  readonly model: string;
  readonly step: Record<string, unknown>;
  readonly samples: number;
  readonly description: string;
  readonly synthetic: boolean;
  readonly weightBytes: number;
  /** Task 'lm': the untransformed model's perplexity on the data. */
  readonly baselinePerplexity?: number;
  /** Why the model was taken for a language model without --task lm (its graph). */
  readonly languageModel?: string;
  /** Least harmful first; skipped layers last. */
  readonly layers: readonly LayerSensitivity[];
  readonly plan: {
    readonly layers: readonly string[];
    readonly weightBytesAfter: number;
    /** Estimated from the per-layer noise added up; null when nothing changes. */
    readonly estimatedSqnrDb: number | null;
    /** Task 'lm': the baseline's perplexity plus each chosen layer's increase. */
    readonly estimatedPerplexity?: number;
    readonly meetsTarget: boolean;
    /** The recipe step that applies the plan. */
    readonly step: Record<string, unknown>;
    /** With budgets: the plan measured against them (then `layers` and `step` are this plan's). */
    readonly budget?: BudgetPlan;
  };
}

const noiseRatio = (sqnrDb: number | null): number => (sqnrDb === null ? 0 : 10 ** (-sqnrDb / 10));

export async function analyzeSensitivity(file: string, options: SensitivityOptions, runner = new OrtProcess()): Promise<SensitivityResult> {
  const model = openModel(file);
  const state = stateOf(model.proto, model.dir);
  const layers = selectLayers(attributeLayers(state.index), options.step.layers, options.step.exclude);
  const { task, why: detected } = chooseTask(model.proto, options.task, options.outputTasks);
  const version = createHash('sha256').update(model.bytes).digest('hex');
  const cacheDir = options.cacheDir ?? path.join(os.tmpdir(), 'onnx-compress-sensitivity');
  fs.mkdirSync(cacheDir, { recursive: true });
  const results: LayerSensitivity[] = [];
  let samples = 0;
  let description = '';
  let synthetic = false;
  let baselinePerplexity: number | undefined;
  for (const [i, layer] of layers.entries()) {
    options.signal?.throwIfAborted();
    const name = layerName(layer);
    options.onProgress?.(i, layers.length, name);
    const step = { ...options.step, layers: [name], exclude: [] };
    const key = createHash('sha256')
      .update(JSON.stringify([version, stepToJson(step), options.dataset, options.limit, task ?? null, options.outputTasks ?? null]))
      .digest('hex');
    const cached = path.join(cacheDir, `${key}.json`);
    if (fs.existsSync(cached)) {
      const hit = JSON.parse(fs.readFileSync(cached, 'utf8')) as { entry: LayerSensitivity; samples: number; description: string; synthetic: boolean; baselinePerplexity?: number };
      results.push(hit.entry);
      ({ samples, description, synthetic, baselinePerplexity } = hit);
      continue;
    }
    const edit = await applyStep(state, step, options.signal);
    const opType = layer.node.node.opType ?? '';
    if (edit.result.changed.length === 0) {
      results.push({ layer: name, opType, bytesSaved: 0, sqnrDb: null, agreement: 1, skipped: edit.result.skipped[0]?.reason ?? 'unchanged' });
      continue;
    }
    const candidate = await saveTempModel(edit.after, 'sensitivity', 'candidate.onnx');
    let result: EvaluationResult;
    try {
      ({ result } = await runner.run(
        { kind: 'evaluate', candidate: candidate.file, baseline: model.file!, dataset: options.dataset, limit: options.limit, batchSize: options.batchSize, threads: options.threads, optimization: 'all', task, outputTasks: options.outputTasks },
        undefined,
        options.signal,
      ));
    } finally {
      candidate.dispose();
    }
    const entry: LayerSensitivity = {
      layer: name,
      opType,
      bytesSaved: edit.result.bytesBefore - edit.result.bytesAfter,
      sqnrDb: result.outputs?.[0]?.sqnrDb ?? null,
      agreement: result.lm?.agreement ?? result.agreement ?? 1,
      ...(result.lm ? { perplexity: result.lm.candidate.perplexity, perplexityDelta: result.lm.candidate.perplexity - result.lm.baseline!.perplexity } : {}),
    };
    ({ samples, description, synthetic } = result);
    baselinePerplexity = result.lm?.baseline?.perplexity ?? baselinePerplexity;
    fs.writeFileSync(cached, JSON.stringify({ entry, samples, description, synthetic, baselinePerplexity }));
    results.push(entry);
  }
  options.onProgress?.(layers.length, layers.length, '');

  const weightBytes = storedBytes(state);
  const useful = results.filter((r) => !r.skipped && r.bytesSaved > 0);
  // Harm: the perplexity a layer adds (a language model; a decrease counts as none), or the noise it adds to the output.
  const lm = task === 'lm';
  const harm = (r: LayerSensitivity): number => (lm ? Math.max(0, r.perplexityDelta ?? 0) : noiseRatio(r.sqnrDb));
  const ranked = [...useful].sort((a, b) => (lm ? (a.perplexityDelta ?? 0) - (b.perplexityDelta ?? 0) : (b.sqnrDb ?? Infinity) - (a.sqnrDb ?? Infinity)) || b.bytesSaved - a.bytesSaved);
  // Greedy plan: least harm per byte saved first, until the target is met (or all of them without a target).
  const byCost = [...useful].sort((a, b) => harm(a) / a.bytesSaved - harm(b) / b.bytesSaved);
  const chosen: LayerSensitivity[] = [];
  let after = weightBytes;
  for (const r of byCost) {
    if (options.targetBytes !== undefined && after <= options.targetBytes) break;
    chosen.push(r);
    after -= r.bytesSaved;
  }
  const budget = options.budgets?.length
    ? await planToBudget(state, model.file!, byCost.map((r) => r.layer), { ...options, task, budgets: options.budgets }, runner)
    : undefined;
  if (budget) {
    chosen.splice(0, chosen.length, ...byCost.slice(0, budget.layers.length));
    after = budget.weightBytesAfter;
  }
  const noise = chosen.reduce((n, r) => n + noiseRatio(r.sqnrDb), 0);
  const planLayers = chosen.map((r) => r.layer);
  return {
    model: model.file!,
    step: stepToJson(options.step),
    samples,
    description,
    synthetic,
    weightBytes,
    ...(lm && baselinePerplexity !== undefined ? { baselinePerplexity } : {}),
    ...(detected ? { languageModel: detected } : {}),
    layers: [...ranked, ...results.filter((r) => !useful.includes(r))],
    plan: {
      layers: planLayers,
      weightBytesAfter: after,
      estimatedSqnrDb: noise > 0 ? -10 * Math.log10(noise) : null,
      ...(lm && baselinePerplexity !== undefined ? { estimatedPerplexity: baselinePerplexity + chosen.reduce((n, r) => n + harm(r), 0) } : {}),
      meetsTarget: options.targetBytes === undefined || after <= options.targetBytes,
      step: stepToJson({ ...options.step, layers: planLayers, exclude: [] }),
      ...(budget ? { budget } : {}),
    },
  };
}
