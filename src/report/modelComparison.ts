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
import { stateOf, storedBytes } from '../transforms/apply';
import type { StoredTensor } from '../core/onnx/modelIndex';
import { layerName } from '../transforms/targets';
import type { CompressionReport, ReportEdit, TensorChangeRow } from './compressionReport';
import { fileFigures } from './sizeFigures';
import { plural } from '../shared/format';
import { OnnxError } from '../core/errors';

export interface ModelComparison extends ReportEdit {
  /** Baseline layers with no counterpart of the same weight shape in the model, or with a BatchNormalization folded into them. */
  readonly unmatched: readonly string[];
  /** Baseline layers compared with their counterpart (changed or not). */
  readonly compared: number;
  /** Unmatched layers with no counterpart by name at all, folding aside: many of them suggest the files are different models. */
  readonly missing: number;
}

/** A model's layers and all its stored weight bytes (the Size section's "weights"). */
function layersOf(file: string): { layers: Layer[]; weightBytes: number } {
  const model = openModel(file);
  const state = stateOf(model.proto, model.dir);
  return { layers: [...attributeLayers(state.index).layers], weightBytes: storedBytes(state) };
}

/**
 * The bytes a layer's main weight takes as stored: its own, plus the scale, zero point, codebook or
 * mask it is read back with (what `apply` counts for that tensor), not the layer's bias and others.
 */
function mainWeightBytes(layer: Layer, t: StoredTensor): number {
  const d = layer.dequantized?.get(t);
  const parts = !d ? [] : d.kind === 'codebook' ? [d.codebook] : d.kind === 'masked' ? [d.mask, ...(d.codebook ? [d.codebook] : [])] : [d.scale, ...(d.zeroPoint ? [d.zeroPoint] : [])];
  return parts.reduce((n, p) => n + p.bytes, t.bytes);
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

/**
 * The model's layer that stands for a baseline layer: the one of the same name, else one whose
 * name or main weight's name is the baseline's with a quantizer's suffix (onnxruntime's quantizer
 * turns Conv 'x' with weight 'w' into ConvInteger 'x_quant' with 'w_quantized'; MatMulNBits
 * weights end in '_Q4').
 */
function counterparts(layers: readonly Layer[]): (base: Layer) => Layer | undefined {
  const stem = (name: string): string => name.replace(/(_quantized|_quant|_Q4|_Q8)$/, '');
  const byName = new Map(layers.map((l) => [layerName(l), l]));
  const byStem = new Map(layers.map((l) => [stem(layerName(l)), l]));
  const byWeight = new Map(layers.flatMap((l) => { const w = mainWeight(l); return w ? [[stem(w.name), l] as const] : []; }));
  return (base) => {
    const w = mainWeight(base);
    return byName.get(layerName(base)) ?? byStem.get(layerName(base)) ?? (w ? byWeight.get(w.name) : undefined);
  };
}

/**
 * Baseline layers whose weights the model holds changed by a folding, not by compression: a
 * BatchNormalization the model no longer has was folded into the layer that feeds it, so that
 * layer's weights are scaled per channel and comparing them would measure the folding.
 */
function foldedInto(baseLayers: readonly Layer[], counterpart: (base: Layer) => Layer | undefined): { into: Set<Layer>; batchNorms: Set<Layer> } {
  const producer = new Map(baseLayers.flatMap((l) => l.node.node.output.map((o) => [o, l] as const)));
  const into = new Set<Layer>();
  const batchNorms = new Set<Layer>();
  for (const l of baseLayers) {
    if (l.node.node.opType !== 'BatchNormalization' || counterpart(l)) continue;
    const feeding = producer.get(l.node.node.input[0] ?? '');
    if (feeding) {
      into.add(feeding);
      batchNorms.add(l);
    }
  }
  return { into, batchNorms };
}

export async function compareModels(baseFile: string, modelFile: string, signal?: AbortSignal): Promise<ModelComparison> {
  const model = layersOf(modelFile);
  const base = layersOf(baseFile);
  const counterpart = counterparts(model.layers);
  const folded = foldedInto(base.layers, counterpart);
  const changes: TensorChangeRow[] = [];
  const unmatched: string[] = [];
  let compared = 0;
  let missing = 0;
  for (const layer of base.layers) {
    signal?.throwIfAborted();
    const name = layerName(layer);
    const other = counterpart(layer);
    const a = await realMain(layer);
    const b = other && !folded.into.has(layer) ? await realMain(other) : undefined;
    if (!a || !b || !other || a.dims.join('x') !== b.dims.join('x')) {
      if (a) unmatched.push(name);
      if (a && !other && !folded.batchNorms.has(layer)) missing++;
      continue;
    }
    compared++;
    const before = mainWeightBytes(layer, mainWeight(layer)!);
    const after = mainWeightBytes(other, mainWeight(other)!);
    if (before === after && a.values.every((v, i) => Object.is(v, b.values[i]))) continue;
    const { sqnrDb, maxError } = errorOf(a.values, b.values);
    changes.push({ layer: name, opType: other.node.node.opType ?? '', tensor: mainWeight(other)!.name, bytesBefore: before, bytesAfter: after, sqnrDb, maxError });
  }
  if (compared === 0 && unmatched.length > 0) throw new UnrelatedModels(baseFile, modelFile, unmatched.length);
  const finite = changes.map((c) => c.sqnrDb).filter((s): s is number => s !== null);
  return {
    label: `compared with ${path.basename(baseFile)}`,
    // All stored weights, as an applied edit counts them and the Size section shows them.
    bytesBefore: base.weightBytes,
    bytesAfter: model.weightBytes,
    worstSqnrDb: finite.length ? Math.min(...finite) : null,
    skipped: unmatched.length,
    changes,
    unmatched,
    compared,
    missing,
  };
}

/** No layer of the baseline has a counterpart in the model: a size ratio between them would mean nothing. */
export class UnrelatedModels extends OnnxError {
  constructor(baseFile: string, modelFile: string, layers: number) {
    super(
      'unsupported',
      `${path.basename(modelFile)} does not correspond to ${path.basename(baseFile)}: none of the baseline's ${plural(layers, 'layer')} has a layer of the same name and weight shape in it, so it is not a compressed version of the baseline; nothing compared`,
    );
  }
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
export async function reportOfFiles(modelFile: string, baseFile: string, signal?: AbortSignal): Promise<CompressionReport & Pick<ModelComparison, 'unmatched' | 'compared' | 'missing'>> {
  const comparison = await compareModels(baseFile, modelFile, signal);
  const { unmatched, compared, missing, ...edit } = comparison;
  return {
    model: path.basename(modelFile),
    generated: new Date().toISOString(),
    baseline: path.basename(baseFile),
    before: await fileFigures(baseFile, signal),
    after: await fileFigures(modelFile, signal),
    edits: [edit],
    accuracy: [],
    unmatched,
    compared,
    missing,
  };
}
