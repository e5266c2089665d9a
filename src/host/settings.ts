/** The extension's settings (`onnxCompress.*`), read where they are used so changes apply at once. */
import * as vscode from 'vscode';
import { defaultWorkerCount } from '../analyzers/worker/analysisClient';
import type { AnalysisOptions } from '../analyzers/worker/protocol';
import { TRANSFORM_NAMES } from '../shared/stepSpec';
import type { TransformDefaults } from '../shared/protocol';

function settings(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('onnxCompress');
}

export function analysisOptions(): AnalysisOptions & { maxEagerBytes: number } {
  const s = settings();
  return {
    bins: s.get<number>('histogramBins', 256),
    nearZeroEpsilon: s.get<number>('nearZeroEpsilon', 1e-3),
    maxEagerBytes: s.get<number>('analysis.maxEagerTensorMB', 64) * 1024 * 1024,
  };
}

/** Analysis worker threads: the setting, or one per core (at most 4) when it is 0. */
export function analysisWorkerCount(): number {
  const asked = settings().get<number>('analysis.workers', 0);
  return asked > 0 ? Math.floor(asked) : defaultWorkerCount();
}

/** Default parameters per transform (`onnxCompress.defaults.quantize` …): the form's starting values and the palette's first choice. */
export function transformDefaults(): TransformDefaults {
  const s = settings();
  const out: TransformDefaults = {};
  for (const t of TRANSFORM_NAMES) {
    const value = s.get<unknown>(`defaults.${t}`);
    if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length) out[t] = { ...(value as Record<string, unknown>), transform: t };
  }
  return out;
}
