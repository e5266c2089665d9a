/** What every transform receives and reports. */
import type { ModelIndex } from '../core/onnx/modelIndex';
import type { ModelProto } from '../core/onnx/proto';
import type { Layer } from '../analyzers/layers';
import { sqnrDb } from '../analyzers/quantize';
import type { ModelPatch } from './patch';
import type { NameAllocator } from './names';
import { layerName } from './targets';
import type { Calibrator } from './calibration';
import type { CalibrationSettings } from './recipe';

/** A model as transforms see it: the message tree, its index, and where external data lives. */
export interface ModelState {
  readonly proto: ModelProto;
  readonly index: ModelIndex;
  readonly dir?: string;
}

export interface TensorChange {
  readonly tensor: string;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Signal-to-noise ratio of the new weight against the old, in dB (null when exact). */
  readonly sqnrDb?: number | null;
  /** Largest absolute change of any weight. */
  readonly maxError?: number;
  /** Transform-specific facts (granularity, rank, sparsity...). */
  readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
  /** The weight's values before and after, counted on the same bins (for the editor's overlay). */
  readonly histogram?: ChangeHistogram;
}

/** Counts of the old and the new values of a weight over the same CHANGE_BINS bins spanning both ranges (finite values only). */
export interface ChangeHistogram {
  readonly min: number;
  readonly max: number;
  readonly before: number[];
  readonly after: number[];
}

export const CHANGE_BINS = 64;

export interface LayerChange {
  readonly layer: string;
  readonly opType: string;
  readonly tensors: readonly TensorChange[];
}

export interface LayerSkip {
  readonly layer: string;
  readonly opType: string;
  readonly reason: string;
}

export interface TransformOutcome {
  readonly changed: LayerChange[];
  readonly skipped: LayerSkip[];
  /** Facts about the whole step (how it was calibrated...). */
  readonly notes?: string[];
  /** The resulting model, for transforms that apply their changes layer by layer (the patch is then unused). */
  readonly state?: ModelState;
}

/** What transforms may ask of their caller: things the pure core cannot do itself. */
export interface TransformServices {
  /** A calibrator for static quantization (runs the model in onnxruntime, in a child process). */
  readonly calibrator?: (proto: ModelProto, settings: CalibrationSettings) => Calibrator;
  /** Bytes of GPTQ Hessians one calibration run may gather (default gptqLayers' HESSIAN_BUDGET_BYTES). */
  readonly hessianBudgetBytes?: number;
}

export interface TransformContext {
  readonly state: ModelState;
  readonly services?: TransformServices;
  readonly layers: readonly Layer[];
  readonly patch: ModelPatch;
  readonly names: NameAllocator;
  /** Awaited between layers and inside long loops: yields to the event loop, throws when cancelled. */
  readonly checkpoint: () => Promise<void>;
}

export function skip(layer: Layer, reason: string): LayerSkip {
  return { layer: layerName(layer), opType: layer.node.node.opType ?? '', reason };
}

/** Why a rewrite that does not shrink a weight is not made: "`what` would take 300 bytes instead of 248" (or as many as now). */
export function notSmaller(what: string, bytesBefore: number, bytesAfter: number): string {
  return bytesAfter === bytesBefore ? `${what} would take as many bytes as now (${bytesBefore})` : `${what} would take ${bytesAfter} bytes instead of ${bytesBefore}`;
}

export function change(layer: Layer, tensors: TensorChange[]): LayerChange {
  return { layer: layerName(layer), opType: layer.node.node.opType ?? '', tensors };
}

/**
 * Error of `approx` against `exact`: SQNR (null when exact), the largest absolute difference, and
 * both value distributions on common bins.
 */
export function errorOf(exact: Float32Array, approx: ArrayLike<number>): ChangeError {
  let signal = 0;
  let noise = 0;
  let maxError = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < exact.length; i++) {
    const x = exact[i];
    const y = approx[i];
    const d = x - y;
    signal += x * x;
    noise += d * d;
    const a = Math.abs(d);
    if (a > maxError) maxError = a;
    if (x < min && x - x === 0) min = x;
    if (x > max && x - x === 0) max = x;
    if (y < min && y - y === 0) min = y;
    if (y > max && y - y === 0) max = y;
  }
  return changeError(signal, noise, maxError, changeHistogram(exact, approx, min, max));
}

export interface ChangeError {
  readonly sqnrDb: number | null;
  readonly maxError: number;
  readonly histogram: ChangeHistogram;
}

/** What errorOf adds up, as a kernel hands it over: the energies, the largest error, the histograms. */
export interface ErrorSums extends ChangeHistogram {
  readonly signal: number;
  readonly noise: number;
  readonly maxError: number;
}

/** The change's figures from sums a kernel made on the way (as errorOf would give them). */
export function errorFromSums(s: ErrorSums): ChangeError {
  return changeError(s.signal, s.noise, s.maxError, { min: s.min, max: s.max, before: s.before, after: s.after });
}

/** The figures of a change from its energies, largest error and histogram (errorOf's, or a kernel's). */
export function changeError(signal: number, noise: number, maxError: number, histogram: ChangeHistogram): ChangeError {
  const db = sqnrDb(signal, noise);
  return { sqnrDb: Number.isFinite(db) ? db : null, maxError, histogram };
}

function changeHistogram(exact: ArrayLike<number>, approx: ArrayLike<number>, min: number, max: number): ChangeHistogram {
  const before = new Array<number>(CHANGE_BINS).fill(0);
  const after = new Array<number>(CHANGE_BINS).fill(0);
  if (!(min <= max)) return { min: 0, max: 0, before, after }; // no finite value
  const scale = max > min ? CHANGE_BINS / (max - min) : 0;
  const count = (values: ArrayLike<number>, into: number[]): void => {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v - v !== 0) continue; // NaN or ±Inf
      into[Math.min(CHANGE_BINS - 1, Math.floor((v - min) * scale))]++;
    }
  };
  count(exact, before);
  count(approx, after);
  return { min, max, before, after };
}
