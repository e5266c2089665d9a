/**
 * The extension's one pool of analysis workers, shared by the editor and the Analyze command
 * (two pools would double the threads on a machine the user is working on). Rebuilt when the
 * wanted worker count changes (setting `onnxCompress.analysis.workers`). No vscode import.
 */
import { AnalysisClient } from '../analyzers/worker/analysisClient';

interface Pool {
  readonly workerCount: number;
  dispose(): Promise<void> | void;
}

export class SharedPool<P extends Pool> {
  private pool: P | undefined;

  constructor(
    private readonly create: (count: number) => P,
    private readonly wanted: () => number,
  ) {}

  /** The pool, of the wanted size. */
  get(): P {
    const count = this.wanted();
    if (this.pool?.workerCount !== count) {
      void this.pool?.dispose();
      this.pool = this.create(count);
    }
    return this.pool;
  }

  dispose(): void {
    void this.pool?.dispose();
    this.pool = undefined;
  }
}

export type AnalysisPool = SharedPool<AnalysisClient>;

export function analysisPool(workerScript: string, wanted: () => number): AnalysisPool {
  return new SharedPool((count) => new AnalysisClient(workerScript, count), wanted);
}
