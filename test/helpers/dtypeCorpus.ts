/**
 * The weight-type corpus (test/fixtures/dtypes, made by make_dtype_corpus.py): real models in
 * FLOAT16, BFLOAT16, DOUBLE and already-quantized forms, with the inputs they take. Every preset
 * is applied to every model and the result run in onnxruntime (tests and the evidence script).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseModel } from '../../src/core/onnx/model';
import { saveModel } from '../../src/core/onnx/writeModel';
import { applyStep, stateOf, type Edit } from '../../src/transforms/apply';
import { parseStep } from '../../src/transforms/recipe';
import type { TransformServices } from '../../src/transforms/transform';
import { floatValues } from '../../src/eval/floatOutputs';
import { float16Bits } from '../../src/core/onnx/halfFloat';
import { fixedFloats, ort } from './ort';
import { outputSqnr } from './transformRun';
import { readJson, repoRoot, tempDir } from './paths';

export const corpusDir = path.join(repoRoot, 'test/fixtures/dtypes');

interface ValueSpec {
  readonly name: string;
  readonly elemType: string;
  readonly shape?: number[];
}

export interface CorpusModel {
  readonly file: string;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
}

export function corpusModels(): CorpusModel[] {
  const ref = readJson<Record<string, { inputs: ValueSpec[]; outputs: ValueSpec[] }>>(path.join(corpusDir, 'reference.json'));
  return Object.entries(ref).map(([file, m]) => ({ file, inputs: m.inputs, outputs: m.outputs }));
}

/** The presets every model meets (the editor's and the recipes' common steps). */
export const PRESETS: Record<string, Record<string, unknown>> = {
  'int8 per-channel': { transform: 'quantize', dtype: 'int8', granularity: 'per-channel' },
  'int8 per-tensor': { transform: 'quantize', dtype: 'int8', granularity: 'per-tensor' },
  'int4 block 32': { transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 32 },
  float16: { transform: 'quantize', dtype: 'float16' },
  'static int8': { transform: 'quantize', mode: 'static', calibration: { samples: 4 } },
  'prune 30%': { transform: 'prune', sparsity: 0.3 },
  'prune 2:4': { transform: 'prune', pattern: '2:4' },
  'channels 10%': { transform: 'prune', pattern: 'channel', sparsity: 0.1 },
  'cluster 16': { transform: 'cluster', clusters: 16 },
  'factorize 99%': { transform: 'factorize', energy: 0.99 },
};

export function corpusFeeds(m: CorpusModel, seed = 7): Record<string, ort.Tensor> {
  return Object.fromEntries(
    m.inputs.map((i, k) => {
      const dims = i.shape ?? [1];
      const values = fixedFloats(dims.reduce((a, b) => a * b, 1), seed + k);
      const tensor = i.elemType === 'FLOAT16' ? new ort.Tensor('float16', Uint16Array.from(values, float16Bits), dims) : new ort.Tensor('float32', values, dims);
      return [i.name, tensor];
    }),
  );
}

export interface RunOutputs {
  readonly types: Record<string, string>;
  readonly values: Record<string, Float32Array>;
}

export async function runFile(file: string, feeds: Record<string, ort.Tensor>): Promise<RunOutputs> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  try {
    const out = await session.run(feeds);
    const types = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.type]));
    const values = Object.fromEntries(Object.entries(out).map(([k, v]) => [k, floatValues(v.type, v.data) ?? new Float32Array(0)]));
    return { types, values };
  } finally {
    await session.release();
  }
}

export interface PresetOutcome {
  readonly edit: Edit;
  readonly changedLayers: number;
  readonly skippedLayers: number;
  /** Set when something changed: the saved result's size, its outputs' types and SQNR against the original. */
  readonly run?: { fileBytes: number; types: Record<string, string>; sqnrDb: number };
}

/** Applies one preset to a corpus model; when it changed anything, saves and runs the result. */
export async function applyPreset(m: CorpusModel, step: Record<string, unknown>, base: RunOutputs, services?: TransformServices): Promise<PresetOutcome> {
  const bytes = fs.readFileSync(path.join(corpusDir, m.file));
  const dir = tempDir();
  const model = parseModel(bytes, { dir });
  // Static quantization calibrates on random inputs of the corpus's shapes.
  const shapes = Object.fromEntries(m.inputs.map((i) => [i.name, i.shape ?? [1]]));
  const full = step.mode === 'static' ? { ...step, calibration: { ...(step.calibration as object), shapes } } : step;
  const edit = await applyStep(stateOf(model.proto, dir), parseStep(full), undefined, services);
  const changedLayers = edit.result.changed.length;
  const outcome = { edit, changedLayers, skippedLayers: edit.result.skipped.length };
  if (changedLayers === 0) return outcome;
  const file = path.join(dir, 'out.onnx');
  await saveModel(edit.after, file);
  const run = await runFile(file, corpusFeeds(m));
  const output = m.outputs[0].name;
  return { ...outcome, run: { fileBytes: fs.statSync(file).size, types: run.types, sqnrDb: outputSqnr(base.values[output], run.values[output]) } };
}
