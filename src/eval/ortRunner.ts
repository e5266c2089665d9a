/**
 * The onnxruntime child process (dist/ortRunner.js): runs models on request and sends back
 * summaries, never whole activations. Started by OrtProcess; exits when its parent goes away.
 */
import * as ort from 'onnxruntime-node';
import type { Feed, FromRunner, TensorData, ToRunner, ValueStats } from './protocol';

function send(message: FromRunner): void {
  process.send?.(message);
}

function toOrt(feed: Feed): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(feed).map(([name, t]) => [name, new ort.Tensor(t.type, t.data, t.dims)]));
}

async function stats(request: Extract<ToRunner, { kind: 'stats' }>): Promise<void> {
  const session = await ort.InferenceSession.create(request.model, { graphOptimizationLevel: 'disabled', intraOpNumThreads: 1 });
  try {
    const result: Record<string, ValueStats> = {};
    const bins = request.bins ?? 2048;
    for (const name of request.outputs) {
      const histMax = request.histograms?.[name];
      result[name] = { min: Infinity, max: -Infinity, ...(histMax !== undefined ? { histogram: new Float64Array(bins), histogramMax: histMax } : {}) };
    }
    for (let i = 0; i < request.feeds.length; i++) {
      const out = await session.run(toOrt(request.feeds[i]), request.outputs as string[]);
      for (const name of request.outputs) {
        const data = out[name].data as Float32Array;
        const s = result[name];
        let { min, max } = s;
        for (let k = 0; k < data.length; k++) {
          const x = data[k];
          if (x < min) min = x;
          if (x > max) max = x;
        }
        s.min = min;
        s.max = max;
        if (s.histogram && s.histogramMax !== undefined) {
          const scale = s.histogramMax > 0 ? bins / s.histogramMax : 0;
          const h = s.histogram;
          for (let k = 0; k < data.length; k++) {
            let b = Math.floor(Math.abs(data[k]) * scale);
            if (b >= bins) b = bins - 1;
            h[b]++;
          }
        }
      }
      send({ kind: 'progress', id: request.id, done: i + 1, total: request.feeds.length });
    }
    send({ kind: 'stats', id: request.id, stats: result });
  } finally {
    await session.release();
  }
}

async function latency(request: Extract<ToRunner, { kind: 'latency' }>): Promise<void> {
  const session = await ort.InferenceSession.create(request.model, { graphOptimizationLevel: 'all', intraOpNumThreads: request.threads });
  try {
    const feeds = toOrt(request.feed);
    let first: ort.InferenceSession.OnnxValueMapType | undefined;
    for (let i = 0; i < request.warmup; i++) first = await session.run(feeds);
    const times: number[] = [];
    for (let i = 0; i < request.runs; i++) {
      const t0 = process.hrtime.bigint();
      const out = await session.run(feeds);
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      first ??= out;
      send({ kind: 'progress', id: request.id, done: i + 1, total: request.runs });
    }
    times.sort((a, b) => a - b);
    const outputs = Object.fromEntries(
      Object.entries(first ?? {}).map(([name, t]) => [name, { type: t.type as TensorData['type'], dims: [...t.dims], data: t.data as TensorData['data'] }]),
    );
    send({ kind: 'latency', id: request.id, medianMs: times[Math.floor(times.length / 2)] ?? NaN, minMs: times[0] ?? NaN, outputs });
  } finally {
    await session.release();
  }
}

process.on('message', (message: ToRunner) => {
  (message.kind === 'stats' ? stats(message) : latency(message)).catch((e: unknown) => send({ kind: 'error', id: message.id, message: (e as Error).message ?? String(e) }));
});
process.on('disconnect', () => process.exit(0));
