/**
 * Two model files compared layer by layer, as the Compression Report's one edit "compared with
 * BASE": each layer of the baseline found by name in the model, its main weight's real values
 * (dequantized when stored quantized, clustered or masked; matrices oriented alike whichever op
 * holds them) against the baseline's, with the bytes each stores. For models made by any tool, not
 * only by our edits. Layers that are gone or changed shape are counted, not compared.
 */
import * as path from 'node:path';
import { openModel } from '../core/onnx/model';
import { transposed } from '../core/transpose';
import { attributeLayers, type Layer } from '../analyzers/layers';
import { intAttributes, mainWeight } from '../analyzers/layerAnalysis';
import { dequantizeParams } from '../analyzers/dequantizeParams';
import { readRealFloat32, realDims } from '../analyzers/realValues';
import { sqnrDb } from '../analyzers/quantize';
import { stateOf } from '../transforms/apply';
import { layerName } from '../transforms/targets';
import type { CompressionReport, ReportEdit, TensorChangeRow } from './compressionReport';
import { fileFigures } from './sizeFigures';

export interface ModelComparison extends ReportEdit {
  /** Baseline layers with no layer of the same name and weight shape in the model. */
  readonly unmatched: readonly string[];
}

function layersOf(file: string): Layer[] {
  const model = openModel(file);
  return [...attributeLayers(stateOf(model.proto, model.dir).index).layers];
}

/**
 * A layer's main weight as real values, a matrix product's as [N, K] (outputs first): MatMul and
 * Gemm store B as [K, N] (Gemm with transB as [N, K]), MatMulNBits as [N, K].
 */
async function realMain(layer: Layer): Promise<{ values: Float32Array; dims: readonly number[] } | undefined> {
  const t = mainWeight(layer);
  if (!t) return undefined;
  const params = await dequantizeParams(t, layer.dequantized?.get(t));
  const values = await readRealFloat32(t, params);
  const dims = realDims(t, params);
  const op = layer.node.node.opType;
  const kFirst = dims.length === 2 && params?.kind !== 'nbits' && (op === 'MatMul' || (op === 'Gemm' && intAttributes(layer).get('transB') !== 1));
  return kFirst ? { values: transposed(values, dims[0], dims[1]), dims: [dims[1], dims[0]] } : { values, dims };
}

export async function compareModels(baseFile: string, modelFile: string, signal?: AbortSignal): Promise<ModelComparison> {
  const candidates = new Map(layersOf(modelFile).map((l) => [layerName(l), l]));
  const changes: TensorChangeRow[] = [];
  const unmatched: string[] = [];
  let bytesBefore = 0;
  let bytesAfter = 0;
  for (const base of layersOf(baseFile)) {
    signal?.throwIfAborted();
    const name = layerName(base);
    const other = candidates.get(name);
    const a = await realMain(base);
    const b = other && (await realMain(other));
    if (!a || !b || a.dims.join('x') !== b.dims.join('x')) {
      if (a) unmatched.push(name);
      continue;
    }
    bytesBefore += base.bytes;
    bytesAfter += other.bytes;
    if (base.bytes === other.bytes && a.values.every((v, i) => Object.is(v, b.values[i]))) continue;
    const { sqnrDb, maxError } = errorOf(a.values, b.values);
    changes.push({ layer: name, opType: other.node.node.opType ?? '', tensor: mainWeight(other)!.name, bytesBefore: base.bytes, bytesAfter: other.bytes, sqnrDb, maxError });
  }
  const finite = changes.map((c) => c.sqnrDb).filter((s): s is number => s !== null);
  return {
    label: `compared with ${path.basename(baseFile)}`,
    bytesBefore,
    bytesAfter,
    worstSqnrDb: finite.length ? Math.min(...finite) : null,
    skipped: unmatched.length,
    changes,
    unmatched,
  };
}

/** SQNR of `b` against `a` (null when equal) and the largest absolute difference. */
function errorOf(a: Float32Array, b: Float32Array): { sqnrDb: number | null; maxError: number } {
  let signal = 0;
  let noise = 0;
  let maxError = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i] - b[i];
    signal += a[i] * a[i];
    noise += d * d;
    maxError = Math.max(maxError, Math.abs(d));
  }
  return { sqnrDb: noise === 0 ? null : sqnrDb(signal, noise), maxError };
}

/** The Compression Report of `modelFile` against `baseFile`, as the editor's panel would show it (no accuracy checks). */
export async function reportOfFiles(modelFile: string, baseFile: string, signal?: AbortSignal): Promise<CompressionReport & { unmatched: readonly string[] }> {
  const comparison = await compareModels(baseFile, modelFile, signal);
  const { unmatched, ...edit } = comparison;
  return {
    model: path.basename(modelFile),
    generated: new Date().toISOString(),
    baseline: path.basename(baseFile),
    before: await fileFigures(baseFile, signal),
    after: await fileFigures(modelFile, signal),
    edits: [edit],
    accuracy: [],
    unmatched,
  };
}
