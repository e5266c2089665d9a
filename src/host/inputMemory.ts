/**
 * What the user told us about a model's inputs for synthetic data (shapes of symbolic dims, values
 * of scalars such as a sample rate), remembered per model file across sessions and restarts, so
 * the questions come back with the last answers. Kept in the extension's global state, most
 * recent first, at most MAX_MODELS models.
 */
import type * as vscode from 'vscode';

export interface RememberedInputs {
  readonly shapes: Readonly<Record<string, number[]>>;
  readonly values: Readonly<Record<string, number>>;
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
  const entry: RememberedInputs = { shapes: { ...before.shapes, ...given.shapes }, values: { ...before.values, ...given.values } };
  void store?.update(KEY, [[model, entry], ...all().filter(([file]) => file !== model)].slice(0, MAX_MODELS));
}
