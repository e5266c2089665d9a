/**
 * Layers that are already quantized are analyzed on their real values and say how they are
 * stored: onnxruntime's dynamic (ConvInteger, MatMulInteger) and QLinear forms, MatMulNBits with
 * and without zero points, and our clustering's codebook + indices. The real values are worked
 * out in the test helper one element at a time from the ops' definitions.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyzeModel, withAnalyzedLayers, withoutAnalysis, type AnalyzedLayer, type ModelAnalysis } from '../../../src/analyzers/modelAnalysis';
import { openModel, parseModel } from '../../../src/core/onnx/model';
import { encodeMessage } from '../../../src/core/protobuf/encode';
import { concatBytes } from '../../../src/core/bytes';
import { ModelSchema } from '../../../src/core/onnx/schema';
import { ModelSession } from '../../../src/transforms/modelSession';
import { parseStep } from '../../../src/transforms/recipe';
import { forEachNBitsChunk } from '../../../src/analyzers/nbits';
import { dequantizeParams } from '../../../src/analyzers/dequantizeParams';
import { attributeLayers } from '../../../src/analyzers/layers';
import { repoRoot, tempDir } from '../../helpers/paths';
import { AnalysisClient } from '../../../src/analyzers/worker/analysisClient';
import { smallCnn } from '../../helpers/smallModels';
import { allForms, matMulNBits, quantizedModel, type QuantizedForm } from '../../helpers/quantizedModels';
import { tableLayer } from '../../../src/shared/tableLayer';
import { textReport } from '../../../src/report/analysisText';

function reference(f: QuantizedForm): { min: number; max: number; mean: number; std: number; zeroFraction: number; channelMin: number[]; channelMax: number[] } {
  let sum = 0;
  for (const v of f.real) sum += v;
  const mean = sum / f.real.length;
  let sq = 0;
  for (const v of f.real) sq += (v - mean) ** 2;
  let inner = 1;
  for (let d = f.channelAxis + 1; d < f.dims.length; d++) inner *= f.dims[d];
  const channels = f.dims[f.channelAxis];
  const channelMin = new Array<number>(channels).fill(Infinity);
  const channelMax = new Array<number>(channels).fill(-Infinity);
  f.real.forEach((v, i) => {
    const c = Math.floor(i / inner) % channels;
    channelMin[c] = Math.min(channelMin[c], v);
    channelMax[c] = Math.max(channelMax[c], v);
  });
  return {
    min: Math.min(...f.real),
    max: Math.max(...f.real),
    mean,
    std: Math.sqrt(sq / f.real.length),
    zeroFraction: f.real.filter((v) => v === 0).length / f.real.length,
    channelMin,
    channelMax,
  };
}

const close = (got: number, want: number, what: string): void => assert.ok(Math.abs(got - want) <= 1e-6 * Math.max(1e-3, Math.abs(want)), `${what}: ${got} vs ${want}`);

function checkForm(analysis: ModelAnalysis, f: QuantizedForm): void {
  const layer = analysis.layers.find((l) => l.name === f.layer);
  assert.ok(layer, `${f.layer} is a layer (layers: ${analysis.layers.map((l) => l.name).join(', ')})`);
  assert.equal(layer.storedAs.label, f.label, `${f.layer}: stored as`);
  assert.deepEqual(layer.weights.map((w) => w.name).sort(), [...f.weights].sort(), `${f.layer}: weights`);
  for (const name of f.weights) assert.ok(!analysis.unattributed.some((w) => w.name === name), `${name} is not unattributed`);
  const main = layer.weights.find((w) => w.name === f.main)!;
  assert.equal(main.dequantized, true, `${f.layer}: statistics of the real values`);
  assert.deepEqual(main.realShape, main.shape.join() === f.dims.join() ? undefined : f.dims, `${f.layer}: real shape`);
  const s = main.stats!;
  const want = reference(f);
  assert.equal(s.min, want.min, `${f.layer}: min`);
  assert.equal(s.max, want.max, `${f.layer}: max`);
  close(s.mean, want.mean, `${f.layer}: mean`);
  close(s.std, want.std, `${f.layer}: std`);
  assert.equal(s.zeroFraction, want.zeroFraction, `${f.layer}: zeros`);
  assert.equal(s.histogram.counts.reduce((a, c) => a + c, 0), f.real.length, `${f.layer}: every real value binned`);
  assert.deepEqual(s.channelRanges, { axis: f.channelAxis, min: want.channelMin, max: want.channelMax }, `${f.layer}: channel ranges`);
  const r = layer.redundancy!;
  assert.equal(r.weight, f.main);
  assert.equal(r.energyCurve?.fullRank, Math.min(f.dims[0], f.real.length / f.dims[0]), `${f.layer}: low rank of the real matrix`);
  assert.ok(Number.isFinite(r.int8SqnrDb) || r.int8SqnrDb === Infinity, `${f.layer}: INT8 estimate`);
}

for (const f of allForms()) {
  test(`${f.layer} (${f.label}): statistics, estimates and low rank of the real weight; every weight attributed`, async () => {
    checkForm(await analyzeModel(parseModel(quantizedModel([f]))), f);
  });
}

test('all forms in one model: each layer recognized, only activation parameters and scalars unattributed', async () => {
  const forms = allForms();
  const analysis = await analyzeModel(parseModel(quantizedModel(forms)));
  for (const f of forms) checkForm(analysis, f);
  for (const w of analysis.unattributed) assert.ok(w.elements <= 1, `${w.name} (${w.elements} elements) is unattributed`);
  assert.equal(analysis.layers.length, forms.length, 'no other node is a layer (the scales\' Mul holds no weight of its own)');
});

test('MatMulNBits chunks of any size give the same real values, padding codes left out', async () => {
  const f = matMulNBits(true);
  const index = parseModel(quantizedModel([f])).index;
  const b = index.tensors.find((t) => t.name === 'nz_B')!;
  const layer = attributeLayers(index).layers.find((l) => l.node.label === 'nz_matmul')!;
  const p = (await dequantizeParams(b, layer.dequantized?.get(b)))!;
  for (const chunk of [1, 3, 7, 24, 1000]) {
    const got = new Float32Array(f.real.length);
    let next = 0;
    await forEachNBitsChunk(b, p as Extract<typeof p, { kind: 'nbits' }>, chunk, (v, first) => {
      assert.equal(first, next, 'chunks in order');
      got.set(v, first);
      next = first + v.length;
    });
    assert.equal(next, f.real.length);
    assert.deepEqual(got, f.real, `chunks of ${chunk}`);
  }
});

test('storedAs crosses the shard merge and the table slimming; the text table shows it', async () => {
  const bytes = quantizedModel(allForms());
  const whole = await analyzeModel(parseModel(bytes));
  const layers = new Map<number, AnalyzedLayer>();
  const parts = await Promise.all([0, 1].map((index) => analyzeModel(parseModel(bytes), { shard: { index, count: 2 }, onLayer: (i, l) => layers.set(i, structuredClone(l)) })));
  const bare = { ...parts[0], layers: parts[0].layers.map(withoutAnalysis) };
  assert.deepEqual(structuredClone(withAnalyzedLayers(bare, layers)), whole);
  for (const l of whole.layers) assert.deepEqual(tableLayer(l).storedAs, l.storedAs);
  const text = textReport(whole);
  assert.match(text, /stored as/);
  for (const label of ['UINT8 per-tensor', 'INT8 per-channel', 'UINT8 per-channel', 'INT4 block 16', '16 clusters', '40 clusters']) assert.ok(text.includes(label), label);
});

test('plain weights are stored as FP32 / FP16; a model clustered by our transform is recognized', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'cnn.onnx');
  fs.writeFileSync(file, smallCnn());
  const original = await analyzeModel(openModel(file), { redundancy: false });
  assert.ok(original.layers.every((l) => l.storedAs.label === 'FP32' && l.storedAs.kind === 'plain'), original.layers.map((l) => l.storedAs.label).join());
  const session = ModelSession.open(file);
  await session.apply(parseStep({ transform: 'cluster', clusters: 16 }));
  const edited = await analyzeModel(parseModel(concatBytes(encodeMessage(ModelSchema, session.state.proto).finish())));
  const clusteredLayers = edited.layers.filter((l) => l.storedAs.kind === 'codebook');
  assert.ok(clusteredLayers.length >= 2, `${clusteredLayers.length} clustered layers`);
  for (const l of clusteredLayers) {
    assert.equal(l.storedAs.label, '16 clusters');
    const before = original.layers.find((o) => o.name === l.name)!;
    const main = l.weights.find((w) => w.name === l.redundancy?.weight)!;
    assert.equal(main.dequantized, true);
    assert.deepEqual(main.shape, before.weights.find((w) => w.shape.length >= 2)!.shape, `${l.name}: the indices have the weight's shape`);
    assert.ok(l.weights.some((w) => w.shape.length === 1 && w.elements === 16), `${l.name} owns its codebook`);
    // 16 values: clustering them into 16 again is exact.
    assert.equal(l.redundancy!.cluster16SqnrDb, Infinity, `${l.name}: k=16 of 16 distinct values`);
  }
  assert.ok(!edited.unattributed.some((w) => w.elements > 1), edited.unattributed.map((w) => w.name).join());
});

test('two analysis workers give what the in-process analysis gives, storedAs and real shapes included', async () => {
  const file = path.join(tempDir(), 'quantized.onnx');
  fs.writeFileSync(file, quantizedModel(allForms()));
  const client = new AnalysisClient(path.join(repoRoot, 'dist/analysisWorker.js'), 2, 0);
  try {
    const fromWorkers = await client.analyze(file, {});
    assert.deepEqual(fromWorkers, await analyzeModel(openModel(file)));
    assert.deepEqual(fromWorkers.layers.map((l) => l.storedAs.label).sort(), allForms().map((f) => f.label).sort());
  } finally {
    await client.dispose();
  }
});
