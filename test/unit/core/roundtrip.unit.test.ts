/**
 * Saving: byte-identical when nothing changed, every untouched field kept when something did,
 * and the result still loads and computes the same in onnxruntime.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModel, parseModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { mapTensors } from '../../../src/core/onnx/mapTensors';
import { encodeMessage } from '../../../src/core/protobuf/encode';
import { ModelSchema, NodeSchema } from '../../../src/core/onnx/schema';
import { readDenseFloat32 } from '../../../src/core/onnx/tensorData';
import { fixtureModels, tempDir } from '../../helpers/paths';
import { fixedFloats, ort, runModel } from '../../helpers/ort';
import { encodeModel, floatTensor, graph, model, node, valueInfo } from '../../helpers/modelBuilder';

const fixtures = ['mlp_everything.onnx', 'control_flow.onnx', 'external.onnx'];

for (const file of fixtures) {
  test(`${file}: saving an unedited model rewrites the same bytes`, async () => {
    const source = path.join(fixtureModels, file);
    const m = openModel(source);
    const dir = tempDir();
    const out = path.join(dir, file);
    const result = await saveModel(m, out);
    // In another folder, external data is copied beside the copy: the main file then differs
    // only in the data locations, so check the bytes where the data stays put.
    if (m.index.tensors.some((t) => t.storage.kind === 'external')) {
      assert.equal(result.externalTensors, 2);
      const again = openModel(out);
      for (const t of m.index.tensors) {
        const copy = again.index.tensors.find((x) => x.name === t.name)!;
        assert.deepEqual(await readDenseFloat32(copy), await readDenseFloat32(t));
      }
    } else {
      assert.deepEqual(fs.readFileSync(out), fs.readFileSync(source));
    }
  });
}

test('saving beside the original keeps external data in place and the bytes identical', async () => {
  const dir = tempDir();
  for (const f of ['external.onnx', 'external.onnx.data']) fs.copyFileSync(path.join(fixtureModels, f), path.join(dir, f));
  const file = path.join(dir, 'external.onnx');
  const before = fs.readFileSync(file);
  const data = fs.readFileSync(file + '.data');
  const result = await saveModel(openModel(file), file);
  assert.equal(result.externalTensors, 0);
  assert.deepEqual(fs.readFileSync(file), before);
  assert.deepEqual(fs.readFileSync(file + '.data'), data);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['external.onnx', 'external.onnx.data'], 'no temp files left');
});

test('an edit keeps unknown fields and every untouched message byte for byte', async () => {
  // A model with fields no schema knows: at the model level and inside a node.
  const base = model(
    graph(
      [node('MatMul', ['x', 'w'], ['y'], 'mm')],
      [floatTensor('w', [2, 2], [1, 2, 3, 4])],
      [valueInfo('x', 1, [1, 2])],
      [valueInfo('y', 1, [1, 2])],
    ),
  );
  const unknownNode = new Uint8Array([0xa8, 0x06, 0x2a]); // field 101, varint 42
  const unknownModel = new Uint8Array([0xc2, 0x3e, 0x03, 0x61, 0x62, 0x63]); // field 1000, bytes "abc"
  const withUnknown = {
    ...base,
    $unknown: [{ no: 1000, bytes: unknownModel }],
    graph: { ...base.graph!, node: [{ ...base.graph!.node[0], $unknown: [{ no: 101, bytes: unknownNode }] }] },
  };
  const bytes = encodeModel(withUnknown);
  const parsed = parseModel(bytes);
  assert.deepEqual(Array.from(parsed.proto.$unknown?.[0].bytes ?? []), Array.from(unknownModel));
  assert.deepEqual(Array.from(parsed.proto.graph!.node[0].$unknown?.[0].bytes ?? []), Array.from(unknownNode));

  // Edit one tensor; the node (with its unknown field) must come out as the same bytes.
  const edited = mapTensors(parsed.proto, (t) => (t.name === 'w' ? floatTensor('w', [2, 2], [5, 6, 7, 8]) : t));
  const dir = tempDir();
  const out = path.join(dir, 'edited.onnx');
  await saveModel({ proto: edited, dir }, out);
  const reread = openModel(out);
  assert.deepEqual(Array.from(reread.proto.$unknown?.[0].bytes ?? []), Array.from(unknownModel));
  assert.deepEqual(Array.from(reread.proto.graph!.node[0].$unknown?.[0].bytes ?? []), Array.from(unknownNode));
  const nodeBytes = encodeMessage(NodeSchema, parsed.proto.graph!.node[0]).finish()[0];
  assert.ok(Buffer.from(fs.readFileSync(out)).includes(Buffer.from(nodeBytes)), 'node bytes unchanged');
  assert.deepEqual(Array.from(await readDenseFloat32(reread.index.tensors[0])), [5, 6, 7, 8]);
  // onnxruntime ignores the unknown fields and computes with the new weight.
  const y = await runModel(out, { x: new ort.Tensor('float32', Float32Array.from([1, 1]), [1, 2]) });
  assert.deepEqual(Array.from(y.y), [12, 14]);
});

test('re-encoding an unedited decoded tree field by field gives the original bytes', () => {
  // Copying the root forces re-encoding of the root; children are emitted from their sources.
  const m = openModel(path.join(fixtureModels, 'mlp_everything.onnx'));
  const parts = encodeMessage(ModelSchema, { ...m.proto }).finish();
  assert.deepEqual(Buffer.concat(parts), Buffer.from(m.bytes));
});

test('over the protobuf limit, big tensors move to a side file and onnxruntime gives the same output', async () => {
  const source = path.join(fixtureModels, 'mlp_everything.onnx');
  const dir = tempDir();
  const out = path.join(dir, 'big.onnx');
  const m = openModel(source);
  // Pretend the limit is 1 KiB: the 512-byte w1 and others over 64 bytes must go external.
  const result = await saveModel(m, out, { maxProtobufBytes: 1400, threshold: 64 });
  assert.ok(result.externalTensors >= 2, `externalized ${result.externalTensors}`);
  assert.ok(result.bytes <= 1400);
  const again = openModel(out);
  const w1 = again.index.tensors.find((t) => t.name === 'w1')!;
  assert.equal(w1.storage.kind, 'external');
  assert.deepEqual(await readDenseFloat32(w1), await readDenseFloat32(m.index.tensors.find((t) => t.name === 'w1')!));
  const x = new ort.Tensor('float32', fixedFloats(32), [4, 8]);
  const a = await runModel(source, { x });
  const b = await runModel(out, { x });
  assert.deepEqual(b.y, a.y);
  await assert.rejects(saveModel(m, path.join(dir, 'never.onnx'), { maxProtobufBytes: 1400, externalData: 'never' }), /protobuf limit/);
  assert.equal(fs.existsSync(path.join(dir, 'never.onnx')), false);
  // 'never' takes a model with external data back inline, elsewhere and beside it.
  for (const inline of [path.join(tempDir(), 'inline.onnx'), path.join(dir, 'inline.onnx')]) {
    const saved = await saveModel(again, inline, { externalData: 'never' });
    assert.equal(saved.externalTensors, 0);
    assert.equal(saved.dataBytes, 0);
    const back = openModel(inline);
    assert.ok(back.index.tensors.every((t) => t.storage.kind !== 'external'), inline);
    assert.deepEqual((await runModel(inline, { x })).y, a.y);
  }
});

test('a failed save leaves the existing file untouched', async () => {
  const dir = tempDir();
  const target = path.join(dir, 'model.onnx');
  fs.writeFileSync(target, 'precious');
  const m = openModel(path.join(fixtureModels, 'mlp_everything.onnx'));
  // The side file location points into a folder that does not exist: the data write fails.
  await assert.rejects(saveModel(m, target, { externalData: 'always', threshold: 64, dataFile: 'missing/dir/data.bin' }), /saving failed/);
  assert.equal(fs.readFileSync(target, 'utf8'), 'precious');
  assert.deepEqual(fs.readdirSync(dir), ['model.onnx']);
});
