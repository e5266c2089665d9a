/**
 * Where a command may write: never over one of its inputs (a model or a file a model reads), and
 * only through the same checks and temp-file-then-rename a model save uses.
 */
import * as fs from 'node:fs';
import { openModel, type OnnxModel } from '../core/onnx/model';
import { inputFileAt, sameFile } from '../core/onnx/sameFile';

/** openModel, once per file: a command's checks and its work read a big model once. */
export function openOnce(): (file: string) => OnnxModel {
  const opened = new Map<string, OnnxModel>();
  return (file) => {
    let model = opened.get(file);
    if (!model) opened.set(file, (model = openModel(file)));
    return model;
  };
}

export interface NamedInput {
  readonly file: string;
  /** How a message names it: "the input model", "the baseline model". */
  readonly name: string;
}

/** Which input `output` would replace, for a message, or undefined when it replaces none. */
export function inputAt(output: string, inputs: readonly NamedInput[], open: (file: string) => OnnxModel = openModel): string | undefined {
  for (const input of inputs) if (sameFile(output, input.file)) return input.name;
  // A path with no file yet cannot be a side file a model reads: only then are the models opened.
  if (!fs.existsSync(output)) return undefined;
  for (const input of inputs) {
    const hit = inputFileAt(output, open(input.file), input.name);
    if (hit) return hit;
  }
  return undefined;
}
