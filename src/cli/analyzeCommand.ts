/** `onnx-compress analyze MODEL [--json] [--report FILE.md] [--no-redundancy] [--bins N] [--epsilon E] [--workers N]` */
import * as path from 'node:path';
import { openModel } from '../core/onnx/model';
import { saveText } from '../core/onnx/saveFiles';
import { analyzeModel, type AnalysisProgress, type ModelAnalysis } from '../analyzers/modelAnalysis';
import { AnalysisClient, defaultWorkerCount, planWorkers } from '../analyzers/worker/analysisClient';
import { markdownReport, textReport } from '../report/analysisText';

export interface AnalyzeOptions {
  json: boolean;
  report?: string;
  redundancy: boolean;
  bins?: number;
  nearZeroEpsilon?: number;
  /** Values for symbolic dims: --dim batch=1 --dim seq=128. */
  dims: Record<string, number>;
  /** Whole input shapes: --shape input=1x512. */
  inputShapes: Record<string, number[]>;
  /** Worker threads sharing the layers (default: one per core, at most 4); 1 runs in this thread. */
  workers?: number;
  /** A line saying how far the analysis is (the CLI shows it on a terminal's stderr). */
  onProgress?: (line: string) => void;
}

export async function runAnalyze(file: string, options: AnalyzeOptions, out: (text: string) => void): Promise<ModelAnalysis> {
  const analysis = await analyze(file, options);
  if (options.report) await saveText(options.report, markdownReport(analysis));
  out(options.json ? JSON.stringify(analysis, jsonValue, 2) : textReport(analysis));
  return analysis;
}

async function analyze(file: string, options: AnalyzeOptions): Promise<ModelAnalysis> {
  const settings = { redundancy: options.redundancy, bins: options.bins, nearZeroEpsilon: options.nearZeroEpsilon, dims: options.dims, inputShapes: options.inputShapes };
  const workers = options.workers ?? defaultWorkerCount();
  const onProgress = options.onProgress && ((p: AnalysisProgress): void => options.onProgress?.(progressLine(p)));
  // One worker would only add its start-up to the same work: analyze in this process instead
  // (the model the plan parsed, when it parsed it).
  const plan = planWorkers(file, settings, workers);
  if (plan.count === 1) return analyzeModel(plan.model ?? openModel(file), { ...settings, onProgress });
  const client = new AnalysisClient(path.join(__dirname, 'analysisWorker.js'), workers);
  try {
    return await client.analyze(file, settings, { onProgress, progressEveryMs: 100 });
  } finally {
    await client.dispose();
  }
}

/** "analyzing: 12 of 90 layers, 43% of the weights" (weights, not layers, measure the time left). */
export function progressLine(p: AnalysisProgress): string {
  const share = p.elementsTotal > 0 ? `, ${Math.floor((100 * p.elementsDone) / p.elementsTotal)}% of the weights` : '';
  return `analyzing: ${p.layersDone} of ${p.layersTotal} layers${share}`;
}

/** JSON has no Infinity: an exact reconstruction's SQNR is written as the string "Infinity". */
export function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? null : value > 0 ? 'Infinity' : '-Infinity';
  return value;
}
