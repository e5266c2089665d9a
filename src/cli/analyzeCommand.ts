/** `onnx-compress analyze MODEL [--json] [--report FILE.md] [--no-redundancy] [--bins N] [--epsilon E]` */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModel } from '../core/onnx/model';
import { analyzeModel } from '../analyzers/modelAnalysis';
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
}

export async function runAnalyze(file: string, options: AnalyzeOptions, out: (text: string) => void): Promise<void> {
  const analysis = await analyzeModel(openModel(file), {
    redundancy: options.redundancy,
    bins: options.bins,
    nearZeroEpsilon: options.nearZeroEpsilon,
    dims: options.dims,
    inputShapes: options.inputShapes,
  });
  if (options.report) {
    fs.mkdirSync(path.dirname(path.resolve(options.report)), { recursive: true });
    fs.writeFileSync(options.report, markdownReport(analysis));
  }
  out(options.json ? JSON.stringify(analysis, jsonValue, 2) : textReport(analysis));
}

/** JSON has no Infinity: an exact reconstruction's SQNR is written as the string "Infinity". */
export function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return Number.isNaN(value) ? null : value > 0 ? 'Infinity' : '-Infinity';
  return value;
}
