/**
 * MACs from inferred shapes, against MACs computed from the onnx package's own shape inference
 * (test/fixtures/macs_reference.py), on a crafted model and a real one.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { openModel } from '../../src/core/onnx/model';
import { countMacs } from '../../src/analyzers/macs';
import { inferShapes } from '../../src/analyzers/shapes';
import { fixtureModels, readJson, repoRoot, thirdPartyModels } from '../helpers/paths';

interface MacsReference {
  dims: Record<string, number>;
  macs: Record<string, number | null>;
}

function ours(file: string, dims: Record<string, number>): Map<string, number | null> {
  const model = openModel(file);
  const report = countMacs(model.index, inferShapes(model.index, { dims: new Map(Object.entries(dims)) }));
  return new Map([...report.perNode].map(([n, m]) => [n.label, m]));
}

test('crafted model: grouped/strided/dilated Conv, ConvTranspose, Gemm transB, attention MatMul, LSTM', () => {
  const ref = readJson<MacsReference>(path.join(fixtureModels, 'macs_mix_expected.json'));
  const got = ours(path.join(fixtureModels, 'macs_mix.onnx'), ref.dims);
  for (const [name, macs] of Object.entries(ref.macs)) assert.equal(got.get(name), macs, name);
  // LSTM by its formula: seq 5 · batch 2 · 2 directions · 4 gates · hidden 3 · (input 2 + hidden 3).
  assert.equal(got.get('lstm'), 5 * 2 * 2 * 4 * 3 * (2 + 3));
});

test('symbolic dims are not guessed: without --dim the layers are unresolved', () => {
  const model = openModel(path.join(fixtureModels, 'macs_mix.onnx'));
  const report = countMacs(model.index, inferShapes(model.index));
  assert.equal(report.total, 0);
  assert.deepEqual(report.unresolved.map((n) => n.label).sort(), ['attention', 'conv', 'deconv', 'fc', 'lstm']);
});

test('PP-OCR direction classifier: every node matches the onnx package', () => {
  const ref = readJson<MacsReference>(path.join(repoRoot, 'test/fixtures/macs-cls-reference.json'));
  const got = ours(path.join(thirdPartyModels, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), ref.dims);
  assert.equal(got.size, Object.keys(ref.macs).length);
  for (const [name, macs] of Object.entries(ref.macs)) assert.equal(got.get(name), macs, name);
});
