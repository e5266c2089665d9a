/**
 * The form's preview against what the transforms then measure, on a real model (PaddleOCR's
 * direction classifier): estimates close to the measured figures, bounds on the right side.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { analyzeModel, type ModelAnalysis } from '../../../src/analyzers/modelAnalysis';
import { previewStep, prunedSqnrDb } from '../../../src/analyzers/stepPreview';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import { thirdPartyModels } from '../../helpers/paths';

const file = path.join(thirdPartyModels, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
let analysis: Promise<ModelAnalysis> | undefined;
const analyzed = (): Promise<ModelAnalysis> => (analysis ??= analyzeModel(openModel(file)));

/** Applies the step to every layer; the measured worst SQNR of the main weights and the bytes of the changed weights. */
async function measure(step: Record<string, unknown>): Promise<{ worst: number; bytesBefore: number; bytesAfter: number }> {
  const model = openModel(file);
  const edit = await applyStep(stateOf(model.proto, model.dir), parseStep({ ...step, layers: '*' }));
  const a = await analyzed();
  const mains = new Set(a.layers.map((l) => l.redundancy?.weight));
  const tensors = edit.result.changed.flatMap((c) => c.tensors);
  const sqnrs = tensors.filter((t) => mains.has(t.tensor) && typeof t.sqnrDb === 'number').map((t) => t.sqnrDb as number);
  return { worst: Math.min(...sqnrs), bytesBefore: tensors.reduce((n, t) => n + t.bytesBefore, 0), bytesAfter: tensors.reduce((n, t) => n + t.bytesAfter, 0) };
}

test('INT8 per channel: the analysis quantizes the same way, so the worst SQNR matches and bytes are close', async () => {
  const step = { transform: 'quantize', dtype: 'int8', granularity: 'per-channel' };
  const p = previewStep(step, (await analyzed()).layers);
  const m = await measure(step);
  assert.equal(p.sqnrKind, 'estimate');
  assert.ok(Math.abs(p.worstSqnrDb! - m.worst) < 0.01, `preview ${p.worstSqnrDb} vs measured ${m.worst}`);
  assert.ok(Math.abs(p.bytesAfter - m.bytesAfter) / m.bytesAfter < 0.02, `bytes ${p.bytesAfter} vs ${m.bytesAfter}`);
  assert.equal(p.unanalyzed, 0);
});

test('INT4 blocks: the per-channel SQNR is a floor of the measured one', async () => {
  const step = { transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 32 };
  const p = previewStep(step, (await analyzed()).layers);
  const m = await measure(step);
  assert.equal(p.sqnrKind, 'lower bound');
  assert.ok(p.worstSqnrDb! <= m.worst + 0.01, `floor ${p.worstSqnrDb} vs measured ${m.worst}`);
});

test('magnitude pruning: the histogram estimate is within 1.5 dB of the measured SQNR', async () => {
  for (const sparsity of [0.3, 0.6]) {
    const step = { transform: 'prune', sparsity };
    const p = previewStep(step, (await analyzed()).layers);
    const m = await measure(step);
    assert.ok(Math.abs(p.worstSqnrDb! - m.worst) < 1.5, `sparsity ${sparsity}: preview ${p.worstSqnrDb} vs measured ${m.worst}`);
    assert.equal(p.bytesAfter, p.bytesBefore, 'zeros are stored');
  }
});

test('clustering to 16: the analysis k-means is within 1 dB of the transform; 32 clusters get the 16-cluster floor', async () => {
  const layers = (await analyzed()).layers;
  const p = previewStep({ transform: 'cluster', clusters: 16 }, layers);
  const m = await measure({ transform: 'cluster', clusters: 16 });
  assert.ok(Math.abs(p.worstSqnrDb! - m.worst) < 1, `preview ${p.worstSqnrDb} vs measured ${m.worst}`);
  const p32 = previewStep({ transform: 'cluster', clusters: 32 }, layers);
  assert.equal(p32.sqnrKind, 'lower bound');
  assert.equal(p32.worstSqnrDb, p.worstSqnrDb);
});

test('factorization keeping 95% energy: SQNR at least 13 dB (1/(1 − 0.95)) and the measured one above it', async () => {
  const step = { transform: 'factorize', energy: 0.95 };
  const p = previewStep(step, (await analyzed()).layers);
  const m = await measure(step);
  assert.ok(p.worstSqnrDb! >= 13 - 1e-9 && p.worstSqnrDb! <= m.worst + 1e-6, `floor ${p.worstSqnrDb} vs measured ${m.worst}`);
  assert.ok(p.bytesAfter < p.bytesBefore);
});

test('pruning estimate on a crafted histogram: values at ±1 and ±2, half removed', () => {
  // 4 bins over [-2.5, 2.5]: centres -1.875, -0.625, 0.625, 1.875.
  const h = { min: -2.5, max: 2.5, counts: [10, 10, 10, 10] };
  const total = 20 * 1.875 ** 2 + 20 * 0.625 ** 2;
  assert.ok(Math.abs(prunedSqnrDb(h, 0.5)! - 10 * Math.log10(total / (20 * 0.625 ** 2))) < 1e-12);
  assert.equal(prunedSqnrDb(h, 0), Infinity);
});
