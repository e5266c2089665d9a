/**
 * The core against models built by the Python onnx package: counts and values match numbers
 * computed by onnx + numpy (stored in expected.json), and layers get the right weights.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { readDenseFloat32 } from '../../../src/core/onnx/tensorData';
import { summarizeModel } from '../../../src/analyzers/modelSummary';
import { fixtureModels, readJson, type Reference } from '../../helpers/paths';
import { assertMatchesReference } from '../../helpers/reference';

const expected = readJson<Record<string, Reference>>(path.join(fixtureModels, 'expected.json'));

for (const [file, ref] of Object.entries(expected)) {
  test(`${file}: counts match the onnx package`, () => assertMatchesReference(path.join(fixtureModels, file), ref));

  test(`${file}: tensor values match numpy`, async () => {
    const model = openModel(path.join(fixtureModels, file));
    for (const [name, values] of Object.entries(ref.values ?? {})) {
      const t = model.index.tensors.find((x) => x.name === name);
      assert.ok(t, `tensor ${name} is indexed`);
      const got = await readDenseFloat32(t);
      assert.deepEqual(Array.from(got), values.map((v) => Math.fround(v)), `values of ${name}`);
    }
  });
}

function layerWeights(file: string): Record<string, string[]> {
  const s = summarizeModel(openModel(path.join(fixtureModels, file)));
  return Object.fromEntries(s.layers.map((l) => [`${l.graph}:${l.name}`, l.weights.map((w) => w.name)]));
}

test('layers follow weight-only chains and skip shapes and scalars', () => {
  assert.deepEqual(layerWeights('mlp_everything.onnx'), {
    'main:fc1': ['w1'],
    'main:fc1_bias': ['b1'],
    'main:fc2': ['w2_f16'], // through Cast
    'main:fc3': ['w3_i8'], // through DequantizeLinear; its scalar scale is no weight
    'main:scale_vec': ['cvec'],
    'main:shift_vec': ['cfloats'],
    'main:add_sparse': ['sp'],
  });
  const s = summarizeModel(openModel(path.join(fixtureModels, 'mlp_everything.onnx')));
  assert.deepEqual(s.unattributed.map((w) => w.name).sort(), ['cfloat', 'cint', 'cints', 'scale', 'shape']);
});

test('layers inside If/Loop subgraphs and functions, including outer-scope weights', () => {
  assert.deepEqual(layerWeights('control_flow.onnx'), {
    'branch.then_branch:then_fc': ['wt'],
    'branch.else_branch:else_fc': ['we_c'],
    'loop.body:body_fc': ['outer_w'],
    'function:local.Scale2:Mul_1': ['two'],
  });
});

test('external data is located lazily and read on demand', async () => {
  const model = openModel(path.join(fixtureModels, 'external.onnx'));
  const w = model.index.tensors.find((t) => t.name === 'w')!;
  assert.equal(w.storage.kind, 'external');
  assert.equal(w.bytes, 64 * 32 * 4);
  const s = summarizeModel(model);
  assert.equal(s.model.externalDataBytes, (64 * 32 + 32) * 4);
  assert.equal(s.layers[0].weights[0].storage, 'external:external.onnx.data');
});
