/** The analysis of masked weights: the consuming layer owns them and they are analyzed as the dense weight they make. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModel, parseModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { analyzeModel, type AnalyzedLayer, type ModelAnalysis } from '../../../src/analyzers/modelAnalysis';
import { attributeLayers } from '../../../src/analyzers/layers';
import { AnalysisClient } from '../../../src/analyzers/worker/analysisClient';
import { applyRecipe, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import { maskedView } from '../../../src/transforms/maskedView';
import { layerWeights } from '../../../src/transforms/targets';
import type { ModelState } from '../../../src/transforms/transform';
import { ort } from '../../helpers/ort';
import { repoRoot, tempDir } from '../../helpers/paths';

const sample = path.join(repoRoot, 'samples/digits-cnn.onnx');
const prune = { transform: 'prune', sparsity: 0.5 };
const cluster = { transform: 'cluster', clusters: 8, keepZero: true };
const CHAIN_OPS = ['Reshape', 'BitShift', 'Mod', 'Cast', 'Slice', 'CumSum', 'Mul', 'Gather'];
const dir = tempDir();

async function applyToSample(steps: Record<string, unknown>[], name: string): Promise<{ after: ModelState; file: string }> {
  const model = parseModel(new Uint8Array(fs.readFileSync(sample)), { dir: path.dirname(sample) });
  const edits = await applyRecipe(stateOf(model.proto, path.dirname(sample)), steps.map((s) => parseStep(s)));
  const after = edits[edits.length - 1].after;
  const file = path.join(dir, name);
  await saveModel(after, file);
  return { after, file };
}

const mainOf = (l: AnalyzedLayer) => l.weights.find((w) => w.name === l.redundancy?.weight)!;

/** Each layer's main weight must have the statistics and redundancy the dense weight has. */
function assertSameAsDense(masked: ModelAnalysis, dense: ModelAnalysis): void {
  assert.deepEqual(masked.layers.map((l) => l.name), dense.layers.map((l) => l.name));
  for (const [i, l] of masked.layers.entries()) {
    const d = dense.layers[i];
    const [m, w] = [mainOf(l), mainOf(d)];
    assert.deepEqual(m.stats, w.stats, l.name);
    assert.deepEqual({ ...l.redundancy, weight: '' }, { ...d.redundancy, weight: '' }, l.name);
    if (l.storedAs.kind === 'masked') {
      assert.equal(m.dequantized, true);
      assert.deepEqual(m.realShape, w.shape, l.name);
    }
  }
}

function assertNoChainLayers(a: ModelAnalysis): void {
  for (const l of a.layers) assert.ok(!CHAIN_OPS.includes(l.opType), `${l.name} (${l.opType}) is a layer`);
  // Shape constants stay unattributed; every parameter is counted once.
  const params = a.layers.reduce((n, l) => n + l.params, 0) + a.unattributed.reduce((n, w) => n + w.elements, 0);
  assert.equal(params, a.model.parameterCount);
  assert.ok(a.unattributed.some((w) => w.dataType === 'INT64' && w.name.endsWith('_mask_dims')));
}

test('prune 50%, stored masked: each layer owns its mask and non-zeros, analyzed as the dense pruned weight', async () => {
  const { after, file } = await applyToSample([prune], 'pruned.onnx');
  const densePath = path.join(dir, 'pruned-dense.onnx');
  await saveModel(maskedView(after)!.state, densePath);
  const masked = await analyzeModel(openModel(file), { bins: 64 });
  const dense = await analyzeModel(openModel(densePath), { bins: 64 });
  assertNoChainLayers(masked);
  assertSameAsDense(masked, dense);
  for (const l of masked.layers) {
    assert.equal(l.storedAs.label, 'FP32 masked (50% zeros)', l.name);
    assert.equal(l.storedAs.kind, 'masked');
    assert.equal(l.weights.length, 3, `${l.name}: non-zeros, mask, bias`);
    assert.ok(Math.abs(mainOf(l).stats!.zeroFraction - 0.5) < 0.01, `${l.name}: ${mainOf(l).stats!.zeroFraction}`);
  }
  // Quantizing the weight stores it dense: the estimate is that of the dense weight.
  assert.ok(Math.abs(masked.estimates.int8PerChannelBytes - dense.estimates.int8PerChannelBytes) < 400, `${masked.estimates.int8PerChannelBytes} vs ${dense.estimates.int8PerChannelBytes}`);
  // The transforms see no weight of their own in the mask or the non-zeros.
  for (const l of attributeLayers(openModel(file).index).layers) assert.deepEqual(layerWeights(l), [], l.node.label);
});

test('prune then 8 clusters keeping zeros: analyzed as the clustered weight onnxruntime folds the chains into', async () => {
  const { file } = await applyToSample([prune, cluster], 'pruned-clustered.onnx');
  const folded = path.join(dir, 'folded.onnx');
  await (await ort.InferenceSession.create(file, { graphOptimizationLevel: 'basic', optimizedModelFilePath: folded })).release();
  const masked = await analyzeModel(openModel(file), { bins: 64 });
  const dense = await analyzeModel(openModel(folded), { bins: 64 });
  assertNoChainLayers(masked);
  assertSameAsDense(masked, dense);
  const labels = Object.fromEntries(masked.layers.map((l) => [l.name, l.storedAs.label]));
  // The first Conv's weight is small enough that dense indices are smaller than a mask.
  assert.deepEqual(labels, {
    '/6/Gemm': '8 clusters, masked (50% zeros)', '/2/Conv': '8 clusters, masked (50% zeros)', '/8/Gemm': '8 clusters, masked (50% zeros)', '/0/Conv': '8 clusters',
  });
  const fc = masked.layers.find((l) => l.name === '/6/Gemm')!;
  assert.deepEqual(fc.weights.map((w) => w.dataType), ['UINT4', 'UINT8', 'FLOAT', 'FLOAT']);
  assert.equal(fc.storedAs.clusters, 8);
  assert.ok(Math.abs(mainOf(fc).stats!.zeroFraction - 0.5) < 0.01);
});

test('prune then quantize int8: the masked weights are quantized dense and the file shrinks', async () => {
  const pruned = await applyToSample([prune], 'p.onnx');
  const model = parseModel(new Uint8Array(fs.readFileSync(pruned.file)), { dir });
  const edits = await applyRecipe(stateOf(model.proto, dir), [parseStep({ transform: 'quantize', dtype: 'int8' })]);
  assert.equal(edits[0].result.changed.length, 4);
  const out = path.join(dir, 'pq.onnx');
  await saveModel(edits[0].after, out);
  assert.ok(fs.statSync(out).size < 0.55 * fs.statSync(pruned.file).size, `${fs.statSync(out).size} vs ${fs.statSync(pruned.file).size}`);
  const a = await analyzeModel(openModel(out), { redundancy: false });
  assert.deepEqual(a.layers.map((l) => l.storedAs.label), ['INT8 per-channel', 'INT8 per-channel', 'INT8 per-channel', 'INT8 per-channel']);
});

test('two workers analyze a masked model as the in-process analysis does', async () => {
  const { file } = await applyToSample([prune, cluster], 'workers.onnx');
  const client = new AnalysisClient(path.join(repoRoot, 'dist/analysisWorker.js'), 2, 0);
  try {
    const fromWorkers = await client.analyze(file, { bins: 64 });
    const inProcess = await analyzeModel(openModel(file), { bins: 64 });
    assert.deepEqual(fromWorkers, inProcess);
    assert.ok(inProcess.layers.some((l) => l.storedAs.kind === 'masked' && mainOf(l).stats));
  } finally {
    await client.dispose();
  }
});
