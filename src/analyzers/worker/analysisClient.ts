/**
 * Runs model analysis in a pool of worker threads: the workers read the file once, together, into
 * memory they share, each worker parses it and analyzes its share of the layers (see shards.ts), the
 * client merges their results. Progress as it goes,
 * cancel through an AbortSignal, errors as OnnxError. dispose() ends the workers.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { OnnxError, type OnnxErrorCode } from '../../core/errors';
import { externalBytes, MAX_PROTOBUF_BYTES, openModel, type OnnxModel } from '../../core/onnx/model';
import { withAnalyzedLayers, type AnalysisProgress, type AnalyzedLayer, type ModelAnalysis } from '../modelAnalysis';
import type { AnalysisOptions, FromAnalysisWorker, ToAnalysisWorker } from './protocol';

export class AnalysisCancelled extends Error {
  constructor() {
    super('analysis cancelled');
    this.name = 'AnalysisCancelled';
  }
}

/** Workers used when none are asked for: one per core, at most 4. */
export function defaultWorkerCount(): number {
  return Math.max(1, Math.min(4, os.availableParallelism()));
}

/**
 * Each worker parses the whole model and repeats the per-model work (layers, shapes), so below
 * this many bytes of model per worker, more workers cost more than they save (measured with
 * `npm run bench` on 3 to 11 MB models: two workers were slower than one).
 */
export const MIN_BYTES_PER_WORKER = 16 * 1024 * 1024;

/**
 * The same with the redundancy figures on (k-means, ranks): a layer then costs about a hundred
 * times more per byte, so a second worker pays for its parse on far smaller models (PP-OCRv4 rec,
 * 10 MB: 5.5 s of work in one worker).
 */
export const MIN_BYTES_PER_WORKER_WITH_REDUNDANCY = 1024 * 1024;

/** One analysis in flight: the layers as the workers send them, complete when every worker's result is in. */
interface Job {
  readonly workers: readonly Worker[];
  readonly layers: Map<number, AnalyzedLayer>;
  results: number;
  readonly progress: AnalysisProgress[];
  readonly resolve: (a: ModelAnalysis) => void;
  readonly reject: (e: Error) => void;
  readonly onProgress?: (p: AnalysisProgress) => void;
  /** Progress at most this often (ms); the last update always comes. */
  readonly progressEveryMs: number;
  progressAt: number;
  readonly onLayer?: (index: number, layer: AnalyzedLayer) => void;
}

/** Files up to this size are parsed to count the external data they point to (a few ms). */
const MAX_PARSED_FOR_SIZE = 16 * 1024 * 1024;

/** How many of `available` workers an analysis of `file` uses (see MIN_BYTES_PER_WORKER). */
export function workersFor(file: string, options: AnalysisOptions, available: number, minBytesPerWorker = MIN_BYTES_PER_WORKER): number {
  return planWorkers(file, options, available, minBytesPerWorker).count;
}

/** workersFor, with the model when it had to be parsed to decide (analyzing it in this thread then needs no second parse). */
export function planWorkers(file: string, options: AnalysisOptions, available: number, minBytesPerWorker = MIN_BYTES_PER_WORKER): { count: number; model?: OnnxModel } {
  const perWorker = options.redundancy === false ? minBytesPerWorker : Math.min(minBytesPerWorker, MIN_BYTES_PER_WORKER_WITH_REDUNDANCY);
  if (perWorker <= 0) return { count: Math.max(1, available) };
  let bytes = 0;
  let model: OnnxModel | undefined;
  try {
    bytes = fs.statSync(file).size;
    // The weights an analysis reads include external data: a 1.2 GB model whose weights are all in
    // side files has a 0.3 MB .onnx and must not get one worker. Parsed only when that can matter.
    if (bytes < perWorker * available && bytes <= MAX_PARSED_FOR_SIZE) {
      model = openModel(file);
      bytes += externalBytes(model.index);
    }
  } catch {
    // unreadable or not a model: the worker says why
  }
  return { count: Math.max(1, Math.min(available, Math.ceil(bytes / perWorker))), model };
}

/**
 * Memory for the file's bytes that every worker can read, which the workers fill together (each
 * reads its slice, in parallel, while the others start), for more than one worker; undefined when
 * one worker reads the file itself, or when its size cannot be known here (a worker then reports
 * why, as it would alone).
 */
function sharedFile(file: string, workers: number): { bytes: SharedArrayBuffer; ready: SharedArrayBuffer } | undefined {
  if (workers < 2) return undefined;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_PROTOBUF_BYTES) return undefined;
    return { bytes: new SharedArrayBuffer(size), ready: new SharedArrayBuffer(8) };
  } catch {
    return undefined;
  }
}

export class AnalysisClient {
  private readonly workers: Worker[];
  private readonly jobs = new Map<number, Job>();
  private nextId = 1;

  /** `workerFile`: the bundled worker entry (dist/analysisWorker.js by default). */
  /** `minBytesPerWorker`: models smaller than this per worker use fewer workers (0: always all). */
  constructor(
    workerFile = path.join(__dirname, 'analysisWorker.js'),
    workerCount = defaultWorkerCount(),
    private readonly minBytesPerWorker = MIN_BYTES_PER_WORKER,
  ) {
    if (!Number.isInteger(workerCount) || workerCount < 1) throw new RangeError(`worker count must be a positive integer, got ${workerCount}`);
    this.workers = Array.from({ length: workerCount }, (_, shard) => {
      const worker = new Worker(workerFile);
      worker.on('message', (m: FromAnalysisWorker) => this.receive(shard, m));
      worker.on('error', (e) => this.failAll(e));
      worker.on('exit', (code) => this.failAll(new Error(`analysis worker exited with code ${code}`)));
      return worker;
    });
  }

  get workerCount(): number {
    return this.workers.length;
  }

  analyze(
    file: string,
    options: AnalysisOptions = {},
    hooks: {
      onProgress?: (p: AnalysisProgress) => void;
      /** Deliver progress at most this often (ms; the last update always comes): a view of a 10,000-layer model needs ten a second, not one a layer. */
      progressEveryMs?: number;
      onLayer?: (index: number, layer: AnalyzedLayer) => void;
      signal?: AbortSignal;
    } = {},
  ): Promise<ModelAnalysis> {
    const id = this.nextId++;
    const count = workersFor(file, options, this.workers.length, this.minBytesPerWorker);
    return new Promise((resolve, reject) => {
      if (hooks.signal?.aborted) return reject(new AnalysisCancelled());
      const idle: AnalysisProgress = { layersDone: 0, layersTotal: 0, elementsDone: 0, elementsTotal: 0 };
      const workers = this.workers.slice(0, count);
      this.jobs.set(id, { workers, layers: new Map(), results: 0, progress: new Array(count).fill(idle), resolve, reject, onProgress: hooks.onProgress, progressEveryMs: hooks.progressEveryMs ?? 0, progressAt: -Infinity, onLayer: hooks.onLayer });
      hooks.signal?.addEventListener('abort', () => workers.forEach((w) => this.post(w, { type: 'cancel', id })), { once: true });
      const shared = sharedFile(file, count);
      workers.forEach((w, index) =>
        this.post(w, { type: 'analyze', id, file: path.resolve(file), bytes: shared?.bytes, fill: shared && { ready: shared.ready, part: index, parts: count }, options: { ...options, shard: { index, count } } }),
      );
    });
  }

  async dispose(): Promise<void> {
    await Promise.all(
      this.workers.map((w) => {
        w.removeAllListeners('exit');
        return w.terminate();
      }),
    );
    this.failAll(new AnalysisCancelled());
  }

  private post(worker: Worker, m: ToAnalysisWorker): void {
    worker.postMessage(m);
  }

  private receive(shard: number, m: FromAnalysisWorker): void {
    const job = this.jobs.get(m.id);
    if (!job) return;
    switch (m.type) {
      case 'progress': {
        job.progress[shard] = m.progress;
        const sum = (key: keyof AnalysisProgress): number => job.progress.reduce((n, p) => n + p[key], 0);
        const now = Date.now();
        const last = sum('layersDone') === sum('layersTotal');
        if (!last && now - job.progressAt < job.progressEveryMs) return;
        job.progressAt = now;
        job.onProgress?.({ layersDone: sum('layersDone'), layersTotal: sum('layersTotal'), elementsDone: sum('elementsDone'), elementsTotal: sum('elementsTotal') });
        return;
      }
      case 'layer':
        job.layers.set(m.index, m.layer);
        job.onLayer?.(m.index, m.layer);
        return;
      case 'result':
        // Every worker's result holds the same model-level figures; the layers came on their own.
        if (++job.results === job.workers.length) {
          this.jobs.delete(m.id);
          job.resolve(withAnalyzedLayers(m.analysis, job.layers));
        }
        return;
      case 'cancelled':
        this.finish(m.id, job, new AnalysisCancelled());
        return;
      case 'error':
        this.finish(m.id, job, m.code === 'internal' ? new Error(m.message) : new OnnxError(m.code as OnnxErrorCode, m.message));
    }
  }

  /** Ends a job with an error; the other workers are told to stop their part. */
  private finish(id: number, job: Job, error: Error): void {
    this.jobs.delete(id);
    job.workers.forEach((w) => this.post(w, { type: 'cancel', id }));
    job.reject(error);
  }

  private failAll(e: Error): void {
    for (const job of this.jobs.values()) job.reject(e);
    this.jobs.clear();
  }
}
