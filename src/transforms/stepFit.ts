/**
 * Whether a step can take a layer at all, and in plain words why not, decided before anything
 * runs: the editor's preview counts only the layers a step can take, and the form disables a
 * preset or the Apply button that could take none. Cheap checks on types, shapes and op kinds
 * only; the transform may still skip a layer for what only its math shows, and then says why.
 */
import { OnnxError } from '../core/errors';
import { DataType, dataTypeName } from '../core/onnx/dataTypes';
import type { Layer } from '../analyzers/layers';
import { blockerFor, layerName, layerWeights, type WeightTarget } from './targets';
import { parseStep, type RecipeStep } from './recipe';

/** Why a layer cannot take a step; `kind` groups layers under one sentence. */
export interface Unfit {
  readonly kind: 'no-matrix' | 'quantized' | 'stored' | 'axis' | 'op' | 'small' | 'rank';
  /** The detail the sentence needs: a type name, the blocker's own words. */
  readonly detail?: string;
}

const INTEGERS = new Set<number>([DataType.Int8, DataType.Uint8, DataType.Int4, DataType.Uint4, DataType.Int16, DataType.Uint16, DataType.Int32]);

const HALVES = new Set<number>([DataType.Float16, DataType.BFloat16]);

/** Undefined when `step` can take `layer`. */
export function layerUnfit(step: RecipeStep, layer: Layer): Unfit | undefined {
  const node = layer.node.node;
  const standard = (node.domain ?? '') === '' || node.domain === 'ai.onnx';
  if (step.transform === 'factorize' && !(standard && ['MatMul', 'Gemm', 'Conv'].includes(node.opType ?? ''))) return { kind: 'op' };
  if (step.transform === 'quantize' && step.format === 'matmulnbits' && !(standard && ['MatMul', 'Gemm', 'Gather'].includes(node.opType ?? ''))) return { kind: 'op' };
  // Factorize rewrites the op's weight input only; the others every weight matrix.
  const matrices = layerWeights(layer).filter((w) => step.transform !== 'factorize' || w.operand === 1);
  if (matrices.length === 0) return { kind: 'no-matrix' };
  // The transform's own test: quantize and cluster re-encode already-quantized weights from their real values.
  const blocker = blockerFor(step);
  const floats = matrices.filter((w) => blocker(w) === undefined);
  if (floats.length === 0) {
    const w = matrices[0];
    if (w.real) return { kind: 'quantized', detail: w.real.label };
    return INTEGERS.has(w.tensor.dataType) ? { kind: 'quantized', detail: dataTypeName(w.tensor.dataType) } : { kind: 'stored', detail: blocker(w) };
  }
  switch (step.transform) {
    case 'quantize': {
      // 16-bit weights stored as FLOAT16 again would be no smaller.
      const halves = step.mode !== 'static' && step.dtype === 'float16' && floats.every((w) => !w.real && HALVES.has(w.tensor.dataType));
      return halves ? { kind: 'quantized', detail: dataTypeName(floats[0].tensor.dataType) } : undefined;
    }
    case 'prune': {
      const nm = /^(\d+):(\d+)$/.exec(step.pattern);
      if (nm && !floats.some((w) => fitsGroups(w, Number(nm[2])))) return { kind: 'axis', detail: step.pattern };
      return undefined;
    }
    case 'cluster':
      return floats.some((w) => w.tensor.elements > step.clusters) ? undefined : { kind: 'small' };
    case 'factorize':
      return step.rank !== undefined && !floats.some((w) => rankPays(w, step.rank!)) ? { kind: 'rank' } : undefined;
    default:
      return undefined;
  }
}

function fitsGroups(w: WeightTarget, m: number): boolean {
  return w.role !== undefined && w.tensor.dims[w.role.reductionAxis] % m === 0;
}

/** A rank-r factorization of an m×n weight stores r·(m+n) values; the transform caps r at min(m, n). */
function rankPays(w: WeightTarget, rank: number): boolean {
  const rows = w.tensor.dims[0];
  const cols = w.tensor.elements / Math.max(1, rows);
  const r = Math.min(rank, rows, cols);
  return r * (rows + cols) < rows * cols;
}

export interface StepFit {
  /** Layers in the target the step can take. */
  readonly layers: readonly string[];
  /** Layers in the target. */
  readonly of: number;
  /** When it can take none: why, in one plain sentence. */
  readonly reason?: string;
}

/**
 * Which of `target` a step (as the form or a preset gives it, without layers) can take. `selected`
 * words the reason for a selection rather than the whole model. A step that does not parse can
 * take nothing, and its error is the reason.
 */
export function stepFit(raw: Readonly<Record<string, unknown>>, target: readonly Layer[], selected: boolean): StepFit {
  let step: RecipeStep;
  try {
    step = parseStep({ ...raw, layers: '*' }, 'form');
  } catch (e) {
    return { layers: [], of: target.length, reason: e instanceof OnnxError ? e.message : String(e) };
  }
  const fit: string[] = [];
  const unfit: Unfit[] = [];
  for (const layer of target) {
    const why = layerUnfit(step, layer);
    if (why) unfit.push(why);
    else fit.push(layerName(layer));
  }
  return fit.length ? { layers: fit, of: target.length } : { layers: fit, of: target.length, reason: reasonFor(step, unfit, selected) };
}

/** One sentence for layers that cannot take the step: the commonest reason among layers with weight matrices. */
function reasonFor(step: RecipeStep, unfit: readonly Unfit[], selected: boolean): string {
  const layers = selected ? 'selected layer' : 'layer';
  const theirs = selected ? "the selected layers'" : "the model's";
  if (unfit.length === 0) return selected ? 'no layer is selected' : 'the model has no layer with weights';
  const counts = new Map<string, { u: Unfit; n: number }>();
  for (const u of unfit) {
    if (u.kind === 'no-matrix') continue;
    const key = `${u.kind}:${u.detail ?? ''}`;
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { u, n: 1 });
  }
  const top = [...counts.values()].sort((a, b) => b.n - a.n)[0]?.u;
  if (!top) return `no ${layers} has a weight matrix (biases and norms are left alone)`;
  const rest = unfit.length - (counts.get(`${top.kind}:${top.detail ?? ''}`)?.n ?? 0);
  const others = rest ? ` (and ${rest} other ${layers}${rest === 1 ? '' : 's'} cannot take it either)` : '';
  return sentence(step, top, theirs, layers) + others;
}

function sentence(step: RecipeStep, u: Unfit, theirs: string, layers: string): string {
  switch (u.kind) {
    case 'quantized':
      return step.transform === 'quantize'
        ? `${theirs} weights are ${u.detail} already`
        : `${theirs} weights are ${u.detail} (quantized already); ${step.transform} needs float weights`;
    case 'stored':
      return `${theirs} weights cannot be rewritten: ${u.detail}`;
    case 'axis': {
      const m = u.detail!.split(':')[1];
      return `${u.detail} needs a reduction axis that is a multiple of ${m}, and no ${layers} has one`;
    }
    case 'op':
      return step.transform === 'quantize'
        ? `MatMulNBits replaces MatMul and Gemm layers (and GatherBlockQuantized embedding Gathers) only, and no ${layers} is one`
        : `factorize works on MatMul, Gemm and Conv layers only, and no ${layers} is one`;
    case 'small':
      return `${theirs} weights have no more values than the ${step.transform === 'cluster' ? step.clusters : ''} clusters`;
    case 'rank':
      return `rank ${step.transform === 'factorize' ? step.rank : ''} would make no ${layers}'s weight smaller (rank r of an m×n weight stores r·(m+n) values)`;
    case 'no-matrix':
      return `no ${layers} has a weight matrix (biases and norms are left alone)`;
  }
}
