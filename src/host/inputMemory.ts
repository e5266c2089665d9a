/**
 * What the user told us about a model's inputs for synthetic data (shapes of symbolic dims, values
 * of scalars such as a sample rate), remembered per model file across sessions and restarts, so
 * the questions come back with the last answers. Kept in the extension's global state, most
 * recent first, at most MAX_MODELS models.
 */
import * as fs from 'node:fs';
import type * as vscode from 'vscode';
import type { DatasetSpec } from '../eval/dataset';

export interface RememberedInputs {
  readonly shapes: Readonly<Record<string, number[]>>;
  readonly values: Readonly<Record<string, number>>;
  /** The NumPy data chosen to calibrate on ('' once the user went back to the accuracy checks' data). */
  readonly calibration?: string;
}

const KEY = 'onnxCompress.syntheticInputs';
const MAX_MODELS = 200;
let store: vscode.Memento | undefined;

export function useInputMemory(memento: vscode.Memento): void {
  store = memento;
}

function all(): [string, RememberedInputs][] {
  return store?.get<[string, RememberedInputs][]>(KEY, []) ?? [];
}

export function rememberedInputs(model: string): RememberedInputs {
  return all().find(([file]) => file === model)?.[1] ?? { shapes: {}, values: {} };
}

export function rememberInputs(model: string, given: Partial<RememberedInputs>): void {
  const before = rememberedInputs(model);
  const entry: RememberedInputs = {
    shapes: { ...before.shapes, ...given.shapes },
    values: { ...before.values, ...given.values },
    calibration: given.calibration ?? before.calibration,
  };
  void store?.update(KEY, [[model, entry], ...all().filter(([file]) => file !== model)].slice(0, MAX_MODELS));
}

/** The calibration data chosen for this model, if its file is still there. */
export function rememberedCalibration(model: string): DatasetSpec | undefined {
  const file = rememberedInputs(model).calibration;
  return file && fs.existsSync(file) ? { kind: 'numpy', path: file } : undefined;
}
