/**
 * Messages between the analysis worker and whoever runs it (the CLI, the editor host).
 * One discriminated union each way; both sides import this file.
 */
import type { AnalysisProgress, AnalyzedLayer, ModelAnalysis } from '../modelAnalysis';
import type { LayerAnalysisOptions } from '../layerAnalysis';
import type { Shard } from '../shards';

export type AnalysisOptions = LayerAnalysisOptions & {
  dims?: Record<string, number>;
  inputShapes?: Record<string, number[]>;
  maxEagerBytes?: number;
  layers?: readonly number[];
};

/** What one worker of a pool is asked: the analysis options plus its share of the layers. */
export type WorkerAnalysisOptions = AnalysisOptions & { shard: Shard };

/**
 * The workers fill `bytes` (the file's size) together: worker `part` of `parts` reads its slice,
 * counts itself done in ready[0] (or sets ready[1] when its read fails) and waits for the others.
 */
export interface SharedFill {
  readonly ready: SharedArrayBuffer;
  readonly part: number;
  readonly parts: number;
}

export type ToAnalysisWorker =
  /**
   * `bytes`: the file in memory every worker shares, read by the workers together as `fill`
   * says (absent: the worker reads the file itself).
   */
  | { type: 'analyze'; id: number; file: string; bytes?: SharedArrayBuffer; fill?: SharedFill; options: WorkerAnalysisOptions }
  | { type: 'cancel'; id: number };

export type FromAnalysisWorker =
  | { type: 'progress'; id: number; progress: AnalysisProgress }
  /** A layer analyzed (index into the layers); sent once, not repeated in the result. */
  | { type: 'layer'; id: number; index: number; layer: AnalyzedLayer }
  /** The model-level analysis; the layers it sent on their own come back without their statistics. */
  | { type: 'result'; id: number; analysis: ModelAnalysis }
  | { type: 'error'; id: number; code: string; message: string }
  | { type: 'cancelled'; id: number };
