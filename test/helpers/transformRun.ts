/** Applying recipe steps to a model and running before and after in onnxruntime (tests). */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseModel } from '../../src/core/onnx/model';
import { saveModel } from '../../src/core/onnx/writeModel';
import { applyStep, stateOf, type Edit } from '../../src/transforms/apply';
import { parseStep } from '../../src/transforms/recipe';
import { tempDir } from './paths';
import { runModel, type Feeds } from './ort';

export interface Outcome {
  readonly edit: Edit;
  readonly file: string;
  readonly fileBytes: number;
  readonly outputs: Record<string, Float32Array>;
}

/** Applies one recipe step (JSON form) to model bytes, saves the result and runs it. */
export async function applyAndRun(bytes: Uint8Array, step: Record<string, unknown>, feeds: Feeds, dir = tempDir()): Promise<Outcome> {
  const model = parseModel(bytes, { dir });
  const edit = await applyStep(stateOf(model.proto, dir), parseStep(step));
  const file = path.join(dir, `out-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}.onnx`);
  await saveModel(edit.after, file);
  return { edit, file, fileBytes: fs.statSync(file).size, outputs: await runModel(file, feeds) };
}

export async function runBytes(bytes: Uint8Array, feeds: Feeds): Promise<Record<string, Float32Array>> {
  const file = path.join(tempDir(), 'model.onnx');
  fs.writeFileSync(file, bytes);
  return runModel(file, feeds);
}

/** Output SQNR in dB of `approx` against `exact` (Infinity when identical). */
export function outputSqnr(exact: Float32Array, approx: Float32Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < exact.length; i++) {
    s += exact[i] ** 2;
    n += (exact[i] - approx[i]) ** 2;
  }
  return n === 0 ? Infinity : 10 * Math.log10(s / n);
}

/** Largest |a − b| relative to max |a|. */
export function relativeError(exact: Float32Array, approx: Float32Array): number {
  let peak = 0;
  let worst = 0;
  for (let i = 0; i < exact.length; i++) {
    peak = Math.max(peak, Math.abs(exact[i]));
    worst = Math.max(worst, Math.abs(exact[i] - approx[i]));
  }
  return peak === 0 ? worst : worst / peak;
}
