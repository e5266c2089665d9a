/**
 * The analysis worker (a worker_threads entry point): heavy per-layer math off the caller's
 * thread. It parses the model from memory every worker shares, which the workers fill together
 * (sharedFill.ts), or reads the file itself when none came, so no tensor bytes are copied between threads.
 */
import { parentPort } from 'node:worker_threads';
import { OnnxError } from '../../core/errors';
import * as path from 'node:path';
import { openModel, parseModel } from '../../core/onnx/model';
import { analyzeModel, withoutAnalysis } from '../modelAnalysis';
import { StatsCache } from '../statsCache';
import { fillShared } from './sharedFill';
import type { FromAnalysisWorker, ToAnalysisWorker } from './protocol';

const port = parentPort;
if (!port) throw new Error('analysisWorker must run in a worker thread');
const jobs = new Map<number, AbortController>();
// Lives as long as the worker: re-analysing an unchanged file reuses every tensor's statistics.
const cache = new StatsCache();
const send = (m: FromAnalysisWorker): void => port.postMessage(m);

port.on('message', (m: ToAnalysisWorker) => {
  if (m.type === 'cancel') {
    jobs.get(m.id)?.abort();
    return;
  }
  const controller = new AbortController();
  jobs.set(m.id, controller);
  void (async () => {
    // Each layer crosses once, as it is done; the result then carries only the model-level figures.
    const sent = new Set<number>();
    try {
      const shared = m.bytes && (!m.fill || fillShared(m.file, m.bytes, m.fill));
      const model = shared && m.bytes ? parseModel(new Uint8Array(m.bytes), { file: m.file, dir: path.dirname(m.file) }) : openModel(m.file);
      const analysis = await analyzeModel(model, {
        ...m.options,
        cache: { stats: cache, fileVersion: StatsCache.fileVersion(m.file) },
        signal: controller.signal,
        onProgress: (progress) => send({ type: 'progress', id: m.id, progress }),
        onLayer: (index, layer) => {
          sent.add(index);
          send({ type: 'layer', id: m.id, index, layer });
        },
      });
      send({ type: 'result', id: m.id, analysis: { ...analysis, layers: analysis.layers.map((l, i) => (sent.has(i) ? withoutAnalysis(l) : l)) } });
    } catch (e) {
      if (controller.signal.aborted) send({ type: 'cancelled', id: m.id });
      else send({ type: 'error', id: m.id, code: e instanceof OnnxError ? e.code : 'internal', message: (e as Error).message ?? String(e) });
    } finally {
      jobs.delete(m.id);
    }
  })();
});
