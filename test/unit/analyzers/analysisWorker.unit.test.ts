/** The analysis worker: same result as in-process, progress per layer, cancel, typed errors. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AnalysisCancelled, AnalysisClient, workersFor } from '../../../src/analyzers/worker/analysisClient';
import { analyzeModel, withAnalyzedLayers, withoutAnalysis, type AnalysisProgress, type AnalyzedLayer } from '../../../src/analyzers/modelAnalysis';
import { openModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { encodeModel, graph, model as onnxModel, node, tensor, valueInfo } from '../../helpers/modelBuilder';
import { OnnxError } from '../../../src/core/errors';
import { repoRoot, tempDir, thirdPartyModels } from '../../helpers/paths';

const workerFile = path.join(repoRoot, 'dist/analysisWorker.js');
const model = path.join(thirdPartyModels, 'hello_deepa.onnx');

for (const workers of [1, 3]) {
  test(`${workers} worker(s) compute what the in-process analysis computes, with progress per layer`, async () => {
    const client = new AnalysisClient(workerFile, workers, 0); // 0: every worker takes part, however small the model
    try {
      const progress: AnalysisProgress[] = [];
      const early = new Map<number, AnalyzedLayer>();
      const fromWorker = await client.analyze(model, { bins: 64 }, { onProgress: (p) => progress.push(p), onLayer: (i, l) => early.set(i, l) });
      const inProcess = await analyzeModel(openModel(model), { bins: 64 });
      assert.deepEqual(fromWorker, inProcess);
      assert.equal(early.size, inProcess.layers.length, 'every layer arrived on its own before the result');
      for (const [i, l] of early) assert.deepEqual(l, inProcess.layers[i]);
      assert.equal(progress.length, inProcess.layers.length);
      const elements = inProcess.layers.reduce((n, l) => n + l.params, 0);
      assert.deepEqual(progress.at(-1), { layersDone: progress.length, layersTotal: progress.length, elementsDone: elements, elementsTotal: elements });
    } finally {
      await client.dispose();
    }
  });
}

test('a shard analyzes only its layers; the shards\' layers put together give the whole analysis and its estimates', async () => {
  const whole = await analyzeModel(openModel(model), { bins: 32 });
  const layers = new Map<number, AnalyzedLayer>();
  const counts = [0, 0];
  const parts = await Promise.all(
    [0, 1].map((index) =>
      analyzeModel(openModel(model), {
        bins: 32,
        shard: { index, count: 2 },
        onLayer: (i, l) => {
          assert.ok(!layers.has(i), `layer ${i} analyzed by one shard only`);
          layers.set(i, l);
          counts[index]++;
        },
      }),
    ),
  );
  assert.ok(counts[0] > 0 && counts[1] > 0, `both shards have work: ${counts}`);
  assert.equal(layers.size, whole.layers.length);
  assert.equal(parts[0].estimates.huffmanInt8Bytes, null, 'a shard alone cannot know the Huffman total');
  const bare = { ...parts[0], layers: parts[0].layers.map(withoutAnalysis) };
  assert.deepEqual(withAnalyzedLayers(bare, layers), whole);
});

test('cancelling stops a running analysis in every worker, and the pool takes the next job', async () => {
  const client = new AnalysisClient(workerFile, 2, 0);
  try {
    const abort = new AbortController();
    const big = path.join(thirdPartyModels, 'ch_PP-OCRv4_rec_infer.onnx');
    const running = client.analyze(big, {}, { signal: abort.signal, onProgress: () => abort.abort() });
    await assert.rejects(running, AnalysisCancelled);
    const next = await client.analyze(model, { redundancy: false });
    assert.ok(next.layers.length > 0);
  } finally {
    await client.dispose();
  }
});

test('bad input comes back as an OnnxError with its code', async () => {
  const client = new AnalysisClient(workerFile);
  try {
    const bad = path.join(tempDir(), 'bad.onnx');
    fs.writeFileSync(bad, 'not a model');
    await assert.rejects(client.analyze(bad), (e: unknown) => e instanceof OnnxError && e.code === 'not-onnx');
  } finally {
    await client.dispose();
  }
});

test('cancel reaches inside a single big layer', async () => {
  // One MatMul with an 8M-weight matrix: if cancel were only checked between layers, this job
  // would finish with a result instead of stopping.
  const { saveModel } = await import('../../../src/core/onnx/writeModel');
  const { floatTensor, graph, model, node } = await import('../../helpers/modelBuilder');
  const values = Array.from({ length: 2048 * 4096 }, (_, i) => Math.sin(i));
  const file = path.join(tempDir(), 'big.onnx');
  await saveModel({ proto: model(graph([node('MatMul', ['x', 'w'], ['y'], 'big')], [floatTensor('w', [2048, 4096], values)])) }, file);
  const client = new AnalysisClient(workerFile);
  try {
    const abort = new AbortController();
    const progress: AnalysisProgress[] = [];
    // An exact SVD of the 2048 × 4096 matrix takes many seconds: the abort lands inside this layer.
    const running = client.analyze(file, { maxLowRankDim: 4096 }, { signal: abort.signal, onProgress: (p) => progress.push(p) });
    setTimeout(() => abort.abort(), 200);
    await assert.rejects(running, AnalysisCancelled);
    assert.equal(progress.length, 0, 'the layer never completed');
  } finally {
    await client.dispose();
  }
});

test('layers with a weight over the eager limit wait, marked deferred; asking for one analyzes just it', async () => {
  const whole = await analyzeModel(openModel(model), { bins: 32 });
  const sizes = whole.layers.map((l) => Math.max(0, ...l.weights.map((w) => w.bytes)));
  const limit = [...sizes].sort((a, b) => a - b)[Math.floor(sizes.length / 2)];
  const eager = await analyzeModel(openModel(model), { bins: 32, maxEagerBytes: limit });
  eager.layers.forEach((l, i) => {
    if (sizes[i] > limit) {
      assert.match(l.deferred ?? '', /analyzed when the model opens/, l.name);
      assert.equal(l.redundancy, undefined);
    } else assert.deepEqual(l, whole.layers[i]);
  });
  const big = sizes.indexOf(Math.max(...sizes));
  assert.ok(eager.layers[big].deferred);
  const one = await analyzeModel(openModel(model), { bins: 32, maxEagerBytes: limit, layers: [big] });
  assert.deepEqual(one.layers[big], whole.layers[big]);
  assert.equal(one.layers.filter((l) => l.redundancy !== undefined).length, 1);
});

test('a small model is analyzed by one worker of the pool: the others would only repeat the parsing', async () => {
  const client = new AnalysisClient(workerFile, 3); // hello_deepa is far below 16 MB per worker
  try {
    const layers: number[] = [];
    const progress: AnalysisProgress[] = [];
    await client.analyze(model, { redundancy: false }, { onLayer: (i) => layers.push(i), onProgress: (p) => progress.push(p) });
    // One worker goes through the layers in order; a pool of three would interleave its shards.
    assert.deepEqual(layers, [...layers].sort((a, b) => a - b));
    assert.equal(progress.at(-1)!.layersTotal, layers.length);
  } finally {
    await client.dispose();
  }
});

test('weights in external data count towards the workers a model gets, not just its small .onnx', async () => {
  const dir = tempDir('workers-external');
  const weights = [0, 1].map((i) => tensor(`w${i}`, 1, [500, 500], new Uint8Array(500 * 500 * 4).fill(i + 1)));
  const nodes = [node('MatMul', ['x', 'w0'], ['h']), node('MatMul', ['h', 'w1'], ['y'])];
  const inline = path.join(dir, 'inline.onnx');
  fs.writeFileSync(inline, encodeModel(onnxModel(graph(nodes, weights, [valueInfo('x', 1, [1, 500])], [valueInfo('y', 1, [1, 500])]))));
  const file = path.join(dir, 'external.onnx');
  await saveModel(openModel(inline), file, { externalData: 'always', threshold: 64 });
  assert.ok(fs.statSync(file).size < 4096 && fs.statSync(`${file}.data`).size >= 2 * 500 * 500 * 4);
  // 2 MB of weights at 1 MiB a worker (redundancy on): two workers, as for the same model inline.
  assert.equal(workersFor(inline, {}, 4), 2);
  assert.equal(workersFor(file, {}, 4), 2);
  assert.equal(workersFor(file, { redundancy: false }, 4), 1);
});

test('progress can be thinned to one update per interval; the last one always comes', async () => {
  const client = new AnalysisClient(workerFile, 2, 0);
  try {
    const progress: AnalysisProgress[] = [];
    const analysis = await client.analyze(model, { redundancy: false }, { onProgress: (p) => progress.push(p), progressEveryMs: 60_000 });
    assert.ok(analysis.layers.length > 2);
    // The first update passes (nothing came before it), then nothing until the last.
    assert.ok(progress.length <= 3, `${progress.length} updates`);
    assert.equal(progress.at(-1)!.layersDone, progress.at(-1)!.layersTotal);
    assert.equal(progress.at(-1)!.layersTotal, analysis.layers.length);
  } finally {
    await client.dispose();
  }
});
