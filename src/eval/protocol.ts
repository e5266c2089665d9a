import type { DatasetSpec } from './dataset';
import type { Feed, TensorData } from './feed';
import type { AccuracyDelta, OutputComparison } from './metrics';
import type { LmResult } from './lmMetrics';
import type { Task } from './taskChoice';
import type { TaskOutput } from './taskMetrics';
import type { ValueStats } from '../transforms/calibration';
import type { ConvInput } from '../transforms/calibration';

/**
 * Messages between the extension host / CLI and the onnxruntime child process. onnxruntime runs
 * only there: a native crash ends that process and fails the job, never the caller.
 */

export type ToRunner =
  /** Runs `model` on every feed and summarizes the named outputs. */
  | { readonly kind: 'stats'; readonly id: number; readonly model: string; readonly feeds: readonly Feed[]; readonly outputs: readonly string[]; readonly histograms?: Readonly<Record<string, number>>; readonly bins?: number }
  /**
   * Runs `model` on every feed and, per named value (a float tensor whose last axis is K), gathers
   * the GPTQ Hessian 2·XᵀX / rows over every row (every leading index) of it. A name in `convs`
   * stands for a Conv's input instead: its Hessians over im2col rows, one per group ([group, K, K]).
   */
  | { readonly kind: 'hessian'; readonly id: number; readonly model: string; readonly feeds: readonly Feed[]; readonly values: readonly string[]; readonly convs?: Readonly<Record<string, ConvInput>> }
  /** Runs the candidate (and the baseline, on the same batches) over a dataset and compares them. */
  | { readonly kind: 'evaluate'; readonly id: number; readonly candidate: string; readonly baseline?: string; readonly dataset: DatasetSpec; readonly limit?: number; readonly batchSize: number; readonly threads: number; readonly optimization: 'disabled' | 'basic' | 'extended' | 'all'; readonly providers?: readonly string[]; readonly task?: 'lm'; readonly outputTasks?: Readonly<Record<string, Task>> }
  /** Times `runs` runs of `model` on one feed with all graph optimizations (after `warmup` runs). */
  | { readonly kind: 'latency'; readonly id: number; readonly model: string; readonly feed: Feed; readonly runs: number; readonly warmup: number; readonly threads: number };

export type FromRunner =
  | { readonly kind: 'progress'; readonly id: number; readonly done: number; readonly total: number; readonly samplesPerSecond?: number }
  | { readonly kind: 'evaluation'; readonly id: number; readonly result: EvaluationResult }
  | { readonly kind: 'stats'; readonly id: number; readonly stats: Record<string, ValueStats> }
  /**
   * A slice of one value's Hessian (`length` values in all; these from `offset`), sent before the
   * job's 'hessian' reply one message at a time: neither side ever holds more than a slice of
   * message bytes, and each Hessian is an array of its own on arrival.
   */
  | { readonly kind: 'hessianPart'; readonly id: number; readonly name: string; readonly length: number; readonly offset: number; readonly values: Float64Array }
  /** The end of a Hessian job: the rows each value's Hessian summed (OrtProcess gathers the parts sent before it). */
  | { readonly kind: 'hessian'; readonly id: number; readonly rows: Record<string, number> }
  | { readonly kind: 'latency'; readonly id: number; readonly medianMs: number; readonly minMs: number; readonly outputs: Record<string, TensorData> }
  | { readonly kind: 'error'; readonly id: number; readonly message: string };

/** What a Hessian job resolves to: its end message with the parts gathered. */
export type HessianReply = Extract<FromRunner, { kind: 'hessian' }> & { readonly hessians: Record<string, Float64Array> };

export interface ModelRun {
  /** Top-1 and top-5 accuracy against the labels (absent without labels; top-5 also for 5 classes or fewer). */
  readonly accuracy?: number;
  readonly top5?: number;
  /** Per batch. */
  readonly latencyMs: { readonly median: number; readonly p90: number };
  readonly samplesPerSecond: number;
}

export interface EvaluationResult {
  readonly samples: number;
  readonly description: string;
  /** No data was given: the figures are fidelity on synthetic inputs, not accuracy. */
  readonly synthetic: boolean;
  readonly batchSize: number;
  readonly candidate: ModelRun;
  readonly baseline?: ModelRun;
  readonly agreement?: number;
  readonly accuracyDelta?: AccuracyDelta;
  readonly outputs?: readonly OutputComparison[];
  /** A provider asked for (--provider cuda) could not start: which, why, and that the CPU ran instead. */
  readonly providerNote?: string;
  /** Peak resident memory of the onnxruntime process over the job (both models, data, metrics). */
  readonly peakRssBytes?: number;
  /** Per output: the task its metrics fit, why, and those metrics with 95% intervals. */
  readonly tasks?: readonly TaskOutput[];
  /** Language models (task 'lm'): perplexity of both, next-token agreement, KL. */
  readonly lm?: LmResult;
}
