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
}

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

export function change(layer: Layer, tensors: TensorChange[]): LayerChange {
  return { layer: layerName(layer), opType: layer.node.node.opType ?? '', tensors };
}

/** Error of `approx` against `exact`: SQNR (null when exact) and the largest absolute difference. */
export function errorOf(exact: Float32Array, approx: ArrayLike<number>): { sqnrDb: number | null; maxError: number } {
  let signal = 0;
  let noise = 0;
  let maxError = 0;
  for (let i = 0; i < exact.length; i++) {
    const d = exact[i] - approx[i];
    signal += exact[i] * exact[i];
    noise += d * d;
    const a = Math.abs(d);
    if (a > maxError) maxError = a;
  }
  const db = sqnrDb(signal, noise);
  return { sqnrDb: Number.isFinite(db) ? db : null, maxError };
}
