/**
 * The onnxruntime child process (dist/ortRunner.js): runs models on request and sends back
 * summaries, never whole activations. Started by OrtProcess; exits when its parent goes away.
 */
import * as ort from 'onnxruntime-node';
import type { EvaluationResult, FromRunner, ModelRun, ToRunner } from './protocol';
import type { Feed, TensorData } from './feed';
import { HISTOGRAM_BINS, type ValueStats } from '../transforms/calibration';
import { batchOf, openDataset, type InputInfo } from './dataset';
import { Comparison, latencySummary } from './metrics';
import { floatValues } from './floatOutputs';
import { hessianSum, type HessianSum } from '../transforms/hessian';
import { ConvHessians } from '../transforms/convHessian';
import { TaskComparison } from './taskMetrics';
import { LanguageModelMetrics, type LmBatch } from './lmMetrics';
import type { DatasetSpec, Sample } from './dataset';
import { isBatched } from './syntheticData';
import { vocabularySizes } from './tokenRanges';
import { openModel } from '../core/onnx/model';
import { feedFor } from './feedTypes';
import { checkProviders, startSession } from './providers';

/** Synthetic data makes no more samples than the limit asks for (the header then says how many were used). */
function syntheticUpTo(spec: DatasetSpec, limit: number | undefined): DatasetSpec {
  return spec.kind === 'synthetic' && limit !== undefined ? { ...spec, samples: Math.min(spec.samples, limit) } : spec;
}

/** The logits [batch, seq, vocab] of a language model's outputs: 'logits', else the first float output of rank 3. */
function logitsOf(out: ort.InferenceSession.OnnxValueMapType): LmBatch & { name: string } {
  const name = 'logits' in out ? 'logits' : Object.keys(out).find((n) => out[n].dims.length === 3 && floatValues(out[n].type, out[n].data));
  if (!name) throw new Error('task lm: the model has no logits output [batch, seq, vocab]');
  const t = out[name];
  if (t.dims.length !== 3) throw new Error(`task lm: '${name}' is [${t.dims.join(', ')}], not [batch, seq, vocab]`);
  return { name, logits: floatValues(t.type, t.data)!, samples: t.dims[0], seq: t.dims[1], vocab: t.dims[2] };
}

/** Targets: the samples' token labels, else the input ids (shifted inside the metrics); an attention mask leaves padding out. */
function addLanguageModelBatch(lm: LanguageModelMetrics, samples: readonly Sample[], feeds: Record<string, ort.Tensor>, cand: ort.InferenceSession.OnnxValueMapType, base?: ort.InferenceSession.OnnxValueMapType): string {
  const ids = feeds.input_ids ?? Object.values(feeds).find((t) => t.type === 'int64' && t.dims.length === 2);
  if (!ids) throw new Error('task lm: the model has no input_ids input [batch, seq] of int64');
  const targets = samples.every((s) => s.targets)
    ? Int32Array.from(samples.flatMap((s) => Array.from(s.targets!)))
    : Int32Array.from(ids.data as BigInt64Array, (v) => Number(v));
  const mask = feeds.attention_mask?.data as BigInt64Array | undefined;
  const logits = logitsOf(cand);
  lm.add(logits, base ? logitsOf(base) : undefined, targets, mask ? (i) => mask[i] !== 0n : undefined);
  return logits.name;
}

function send(message: FromRunner): void {
  process.send?.(message);
}

/** Sends a message and waits until it is written (so only one large message is ever in flight). */
function sendWritten(message: FromRunner): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) resolve();
    else process.send(message, undefined, undefined, (error) => (error ? reject(error) : resolve()));
  });
}

function toOrt(feed: Feed): Record<string, ort.Tensor> {
  return Object.fromEntries(Object.entries(feed).map(([name, t]) => [name, new ort.Tensor(t.type, t.data, t.dims)]));
}

/**
 * Sessions that only calibrate (ranges, Hessians): no graph rewrites, so every value asked for
 * exists, and no prepacking, so onnxruntime computes from the weights it memory-maps from external
 * data instead of copying them into packed buffers of its own (a 2.45 GB model: 2.4 GB of the
 * child's own memory otherwise; with this, what the OS caches of the files).
 */
const CALIBRATION_SESSION: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'disabled',
  intraOpNumThreads: 1,
  extra: { session: { disable_prepacking: '1' } },
};

async function stats(request: Extract<ToRunner, { kind: 'stats' }>): Promise<void> {
  const session = await ort.InferenceSession.create(request.model, CALIBRATION_SESSION);
  try {
    const result: Record<string, ValueStats> = {};
    const bins = request.bins ?? HISTOGRAM_BINS;
    for (const name of request.outputs) {
      const histMax = request.histograms?.[name];
      result[name] = { min: Infinity, max: -Infinity, ...(histMax !== undefined ? { histogram: new Float64Array(bins), histogramMax: histMax } : {}) };
    }
    for (let i = 0; i < request.feeds.length; i++) {
      const out = await session.run(toOrt(request.feeds[i]), request.outputs as string[]);
      for (const name of request.outputs) {
        const data = floatValues(out[name].type, out[name].data);
        if (!data) throw new Error(`'${name}' is ${out[name].type}: only float values are calibrated`);
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

/** The largest K whose Hessian is gathered: K² doubles (128 MiB at 4096) per value. */
export const MAX_HESSIAN_SIZE = 4096;

/** Values of a Hessian per message (16 MiB): what each side holds of a message at a time. */
const HESSIAN_PART = 2 ** 21;

async function hessian(request: Extract<ToRunner, { kind: 'hessian' }>): Promise<void> {
  const session = await ort.InferenceSession.create(request.model, CALIBRATION_SESSION);
  try {
    const sums = new Map<string, HessianSum | ConvHessians>();
    const valueOf = (name: string): string => request.convs?.[name]?.value ?? name;
    const fetched = [...new Set(request.values.map(valueOf))];
    for (let i = 0; i < request.feeds.length; i++) {
      const out = await session.run(toOrt(request.feeds[i]), fetched);
      for (const name of request.values) {
        const t = out[valueOf(name)];
        const data = floatValues(t.type, t.data);
        if (!data) throw new Error(`'${valueOf(name)}' is ${t.type}: Hessians are gathered from float values`);
        const conv = request.convs?.[name];
        const dims = t.dims.map(Number);
        let acc = sums.get(name);
        if (conv) {
          if (!acc) sums.set(name, (acc = new ConvHessians(conv.geometry, dims[1] ?? 0)));
          if (acc.k > MAX_HESSIAN_SIZE) throw new Error(`'${conv.value}' gives Conv patches of ${acc.k} features: Hessians are gathered up to ${MAX_HESSIAN_SIZE} (K² doubles each)`);
          (acc as ConvHessians).add(data, dims);
          continue;
        }
        const k = dims.at(-1) ?? 1;
        if (k > MAX_HESSIAN_SIZE) throw new Error(`'${name}' has ${k} features: Hessians are gathered up to ${MAX_HESSIAN_SIZE} (K² doubles each)`);
        if (!acc) sums.set(name, (acc = hessianSum(k)));
        else if (acc.k !== k) throw new Error(`'${name}' has ${k} features in one run and ${acc.k} in another`);
        (acc as HessianSum).add(data, data.length / k);
      }
      send({ kind: 'progress', id: request.id, done: i + 1, total: request.feeds.length });
    }
    const rows: Record<string, number> = {};
    for (const [name, acc] of sums) {
      rows[name] = acc.rows;
      const h = acc.finish();
      for (let offset = 0; offset < h.length; offset += HESSIAN_PART) {
        await sendWritten({ kind: 'hessianPart', id: request.id, name, length: h.length, offset, values: h.subarray(offset, offset + HESSIAN_PART) });
      }
      sums.delete(name);
    }
    send({ kind: 'hessian', id: request.id, rows });
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

async function evaluate(request: Extract<ToRunner, { kind: 'evaluate' }>): Promise<void> {
  checkProviders(request.providers ?? [], ort.listSupportedBackends?.().map((b) => b.name) ?? ['cpu']);
  const options = (executionProviders: string[]): ort.InferenceSession.SessionOptions => ({ graphOptimizationLevel: request.optimization, intraOpNumThreads: request.threads, executionProviders });
  const started = await startSession((p) => ort.InferenceSession.create(request.candidate, options(p)), request.providers ?? []);
  const candidate = started.session;
  // The baseline runs on what the candidate got: the same footing for the comparison.
  const baseline = request.baseline ? await ort.InferenceSession.create(request.baseline, options([...started.providers])) : undefined;
  const providerNote = started.note ? { providerNote: started.note } : {};
  try {
    const inputs: InputInfo[] = candidate.inputMetadata.map((m) => ({
      name: m.name,
      type: m.isTensor ? m.type : 'non-tensor',
      shape: m.isTensor ? m.shape : [],
    }));
    if (baseline) {
      const names = baseline.inputNames.slice().sort().join(', ');
      if (names !== candidate.inputNames.slice().sort().join(', ')) throw new Error(`the baseline's inputs (${names}) differ from the candidate's (${candidate.inputNames.join(', ')})`);
    }
    // The data come in the candidate's input types; a baseline that takes others (FP32 against FP16) gets its own.
    const typesOf = (s: ort.InferenceSession): Record<string, string> => Object.fromEntries(s.inputMetadata.map((m) => [m.name, m.isTensor ? m.type : 'non-tensor']));
    const candidateTypes = typesOf(candidate);
    const baselineTypes = baseline ? typesOf(baseline) : {};
    const forBaseline = (feed: Feed): Record<string, ort.Tensor> => toOrt(feedFor(feed, baselineTypes, request.baseline ?? ''));
    const dataset = await openDataset(syntheticUpTo(request.dataset, request.limit), inputs, request.dataset.kind === 'synthetic' ? vocabularySizes(openModel(request.baseline ?? request.candidate).proto) : {});
    const total = Math.min(dataset.size, request.limit ?? Infinity);
    const description = total < dataset.size ? `${total} of ${dataset.description}` : dataset.description;
    const dynamicBatch = inputs.every(isBatched);
    const batchSize = dynamicBatch ? Math.max(1, request.batchSize) : 1;
    const comparison = new Comparison();
    const times = { base: [] as number[], cand: [] as number[] };
    const started = process.hrtime.bigint();
    const outputsOf = (out: ort.InferenceSession.OnnxValueMapType, names: readonly string[], samples: number) =>
      names
        .map((n) => ({ n, data: floatValues(out[n].type, out[n].data) }))
        .filter((o): o is { n: string; data: Float32Array } => o.data !== undefined)
        .map(({ n, data }) => ({ name: n, data, samples, classes: Math.max(1, out[n].dims.at(-1) ?? 1), dims: out[n].dims.map(Number) }));
    const timed = async (session: ort.InferenceSession, feeds: Record<string, ort.Tensor>, into: number[]) => {
      const t0 = process.hrtime.bigint();
      const out = await session.run(feeds);
      into.push(Number(process.hrtime.bigint() - t0) / 1e6);
      return out;
    };
    const lm = request.task === 'lm' ? new LanguageModelMetrics() : undefined;
    let lmOutput: string | undefined;
    const tasks = new TaskComparison(request.outputTasks);
    for (let first = 0; first < total; first += batchSize) {
      const count = Math.min(batchSize, total - first);
      let feed: Feed;
      let labels: number[] | undefined;
      if (lm) {
        const samples = await Promise.all(Array.from({ length: count }, (_, k) => dataset.sample(first + k)));
        feed = batchOf(samples);
        const feeds = toOrt(feedFor(feed, candidateTypes, request.candidate));
        const c = await timed(candidate, feeds, times.cand);
        const b = baseline ? await timed(baseline, forBaseline(feed), times.base) : undefined;
        lmOutput = addLanguageModelBatch(lm, samples, feeds, c, b);
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        send({ kind: 'progress', id: request.id, done: first + count, total, samplesPerSecond: (first + count) / seconds });
        continue;
      }
      const direct = dataset.batch?.(first, count);
      if (direct) {
        feed = direct.feed;
        labels = direct.labels;
      } else {
        const samples = await Promise.all(Array.from({ length: count }, (_, k) => dataset.sample(first + k)));
        feed = batchOf(samples);
        labels = dataset.labelled ? samples.map((s) => s.label ?? -1) : undefined;
      }
      const base = baseline ? outputsOf(await timed(baseline, forBaseline(feed), times.base), baseline.outputNames, count) : undefined;
      const cand = outputsOf(await timed(candidate, toOrt(feedFor(feed, candidateTypes, request.candidate)), times.cand), candidate.outputNames, count);
      comparison.add(base ?? cand, cand, labels);
      if (base) tasks.add(base, cand, count);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      send({ kind: 'progress', id: request.id, done: first + count, total, samplesPerSecond: (first + count) / seconds });
    }
    if (lm) {
      const lmRun = (ms: number[]): ModelRun => ({ latencyMs: latencySummary(ms), samplesPerSecond: ms.length ? (total / ms.reduce((a, b) => a + b, 0)) * 1000 : 0 });
      const r = { ...(lmOutput ? { output: lmOutput } : {}), ...lm.result(!!baseline) };
      const result: EvaluationResult = {
        samples: total, description, synthetic: dataset.synthetic, batchSize: Math.min(batchSize, total),
        candidate: lmRun(times.cand), ...(baseline ? { baseline: lmRun(times.base), agreement: r.agreement } : {}), lm: r,
      };
      send({ kind: 'evaluation', id: request.id, result: { ...result, ...providerNote, peakRssBytes: process.resourceUsage().maxRSS * 1024 } });
      return;
    }
    const c = comparison.result();
    const taskOutputs = tasks.result();
    const run = (ms: number[], accuracy?: number, top5?: number): ModelRun => ({
      ...(accuracy !== undefined ? { accuracy, ...(top5 !== undefined ? { top5 } : {}) } : {}),
      latencyMs: latencySummary(ms),
      samplesPerSecond: ms.length ? (c.samples / ms.reduce((a, b) => a + b, 0)) * 1000 : 0,
    });
    const result: EvaluationResult = {
      samples: c.samples,
      description,
      synthetic: dataset.synthetic,
      batchSize: Math.min(batchSize, Math.max(1, total)),
      candidate: run(times.cand, c.candidateAccuracy, c.candidateTop5),
      ...(baseline
        ? {
            baseline: run(times.base, c.baselineAccuracy, c.baselineTop5),
            // No agreement figure when the first output's measures nothing (its figure says why).
            ...(taskOutputs[0]?.agreement.unmeasured ? {} : { agreement: taskOutputs[0]?.agreement.value ?? c.agreement }),
            ...(c.accuracyDelta ? { accuracyDelta: c.accuracyDelta } : {}),
            outputs: c.outputs,
            tasks: taskOutputs,
          }
        : {}),
    };
    send({ kind: 'evaluation', id: request.id, result: { ...result, ...providerNote, peakRssBytes: process.resourceUsage().maxRSS * 1024 } });
  } finally {
    await candidate.release();
    await baseline?.release();
  }
}

process.on('message', (message: ToRunner) => {
  const job = message.kind === 'stats' ? stats(message) : message.kind === 'hessian' ? hessian(message) : message.kind === 'latency' ? latency(message) : evaluate(message);
  job.catch((e: unknown) => send({ kind: 'error', id: message.id, message: (e as Error).message ?? String(e) }));
});
process.on('disconnect', () => process.exit(0));
