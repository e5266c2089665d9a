/** Pruning and clustering that pay on disk: the digits sample stored masked, smaller and output-identical. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseModel } from '../../../src/core/onnx/model';
import { readDenseFloat32 } from '../../../src/core/onnx/tensorData';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { applyRecipe, stateOf } from '../../../src/transforms/apply';
import { parseStep, type ClusterStep } from '../../../src/transforms/recipe';
import { maskedView } from '../../../src/transforms/maskedView';
import { assignNearest, clusterCentroids } from '../../../src/transforms/cluster';
import { analyzeSensitivity } from '../../../src/eval/sensitivity';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { fixedFloats, ort, type Feeds } from '../../helpers/ort';
import { repoRoot, tempDir } from '../../helpers/paths';

const sample = path.join(repoRoot, 'samples/digits-cnn.onnx');
const feeds = { image: new ort.Tensor('float32', fixedFloats(4 * 64, 3), [4, 1, 8, 8]) };
const prune = { transform: 'prune', sparsity: 0.5 };
const cluster = { transform: 'cluster', clusters: 8, keepZero: true };

/** Runs with onnxruntime's default optimizations, which fold the masked chains at load. */
async function runFolded(file: string, inputs: Feeds): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(file);
  try {
    const out = await session.run(inputs);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

async function applyToSample(steps: Record<string, unknown>[], dir: string, name: string) {
  const model = parseModel(new Uint8Array(fs.readFileSync(sample)), { dir: path.dirname(sample) });
  const edits = await applyRecipe(stateOf(model.proto, path.dirname(sample)), steps.map((s) => parseStep(s)));
  const after = edits[edits.length - 1].after;
  const file = path.join(dir, name);
  await saveModel(after, file);
  return { edits, after, file, bytes: fs.statSync(file).size };
}

test('prune 50% on the digits sample: the file shrinks by what masks and non-zeros save, and computes exactly what dense zeros do', async () => {
  const dir = tempDir();
  const masked = await applyToSample([prune], dir, 'masked.onnx');
  const dense = path.join(dir, 'dense.onnx');
  await saveModel(maskedView(masked.after)!.state, dense);
  let expected = 0;
  for (const c of masked.edits[0].result.changed) {
    for (const t of c.tensors) {
      const n = t.bytesBefore / 4;
      const nonZeros = Math.round(n * (1 - (t.detail!.sparsityAfter as number)));
      assert.equal(t.detail!.storage, 'masked', t.tensor);
      expected += t.bytesBefore - (Math.ceil(n / 8) + (nonZeros + 1) * 4);
    }
  }
  const saved = fs.statSync(dense).size - masked.bytes;
  // The chain's nodes (named after the weight) and small constants cost about a kilobyte a weight.
  assert.ok(saved <= expected && saved > expected - 1500 * masked.edits[0].result.changed.length, `saved ${saved}, expected about ${expected}`);
  assert.ok(masked.bytes < 0.56 * fs.statSync(sample).size, `${masked.bytes}`);
  assert.deepEqual(await runFolded(masked.file, feeds), await runFolded(dense, feeds));
});

test('prune 50% then 8 clusters keeping zeros: smaller than 8 clusters stored densely, and the same weights', async () => {
  const dir = tempDir();
  const both = await applyToSample([prune, cluster], dir, 'pruned-clustered.onnx');
  const plain = await applyToSample([{ ...cluster, keepZero: false }], dir, 'clustered.onnx');
  const storage = Object.fromEntries(both.edits[1].result.changed.flatMap((c) => c.tensors.map((t) => [t.tensor, t.detail!.storage])));
  // The first Conv's 288 weights: a mask and its constants cost more than the 4-bit indices they save.
  assert.deepEqual(storage, { '0.weight': 'dense', '2.weight': 'masked', '6.weight': 'masked', '8.weight': 'masked' });
  assert.ok(both.bytes < 0.8 * plain.bytes, `${both.bytes} vs ${plain.bytes}`);
  // onnxruntime folds each chain into the weight it computes: it must be the dense clustering of the pruned weight.
  const folded = path.join(dir, 'folded.onnx');
  await (await ort.InferenceSession.create(both.file, { graphOptimizationLevel: 'basic', optimizedModelFilePath: folded })).release();
  const foldedState = stateOf(parseModel(new Uint8Array(fs.readFileSync(folded)), { dir }).proto, dir);
  const pruned = maskedView(both.edits[0].after)!.state;
  for (const name of ['2.weight', '6.weight', '8.weight']) {
    const values = await readDenseFloat32(pruned.index.tensors.find((t) => t.name === name)!);
    const centroids = Float64Array.from(new Set(Array.from(clusterCentroids(values, parseStep(cluster) as ClusterStep), Math.fround))).sort();
    const expected = Float32Array.from(assignNearest(values, centroids), (a) => centroids[a]);
    const t = foldedState.index.tensors.find((x) => x.name === name || x.name.startsWith(`${name}`) && x.elements === values.length);
    assert.ok(t, `${name} folded`);
    assert.deepEqual(Array.from(await readDenseFloat32(t)), Array.from(expected), name);
  }
  assert.deepEqual(await runFolded(both.file, feeds), await runFolded(folded, feeds));
});

test('sensitivity of pruning reports the bytes a masked weight saves', async () => {
  const runner = new OrtProcess();
  try {
    const r = await analyzeSensitivity(sample, {
      step: parseStep({ ...prune, layers: '*' }), dataset: { kind: 'synthetic', samples: 4, seed: 1 }, limit: 4, batchSize: 4, threads: 1, cacheDir: path.join(tempDir(), 'cache'),
    }, runner);
    const fc = r.layers.find((l) => l.layer === '/6/Gemm')!;
    assert.ok(fc.bytesSaved > 450_000, `${fc.bytesSaved}`);
    assert.ok(r.layers.filter((l) => !l.skipped).every((l) => l.bytesSaved > 0));
  } finally {
    runner.dispose();
  }
});
