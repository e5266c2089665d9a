/** A model saved to a temporary file lives in its own temporary folder until disposed, even when the save fails. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { saveTempModel } from '../../../src/core/onnx/tempModel';
import { fixtureModels } from '../../helpers/paths';

const ours = (): string[] => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('onnx-compress-unittest-'));

test('the saved file is there until dispose, which removes its folder (external data beside it too)', async () => {
  const model = openModel(path.join(fixtureModels, 'external.onnx'));
  const before = ours();
  const temp = await saveTempModel(model, 'unittest', 'candidate.onnx');
  assert.equal(path.basename(temp.file), 'candidate.onnx');
  assert.equal(fs.statSync(temp.file).size, temp.saved.bytes);
  assert.deepEqual(openModel(temp.file).proto.graph?.node.length, model.proto.graph?.node.length);
  assert.equal(ours().length, before.length + 1);
  temp.dispose();
  assert.ok(!fs.existsSync(path.dirname(temp.file)));
  assert.deepEqual(ours(), before);
});

test('a save that fails leaves no folder behind', async () => {
  const before = ours();
  await assert.rejects(saveTempModel({ proto: null as never }, 'unittest'));
  assert.deepEqual(ours(), before);
});

test('a model with large external data is saved beside its source, referring to its side file; dispose removes only the new file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-unittest-beside-'));
  try {
    for (const f of fs.readdirSync(fixtureModels).filter((n) => n.startsWith('external.onnx'))) fs.copyFileSync(path.join(fixtureModels, f), path.join(dir, f));
    const model = openModel(path.join(dir, 'external.onnx'));
    const files = fs.readdirSync(dir).sort();
    const temp = await saveTempModel(model, 'unittest', 'candidate.onnx', 1);
    assert.equal(path.dirname(temp.file), dir);
    assert.equal(temp.saved.dataBytes, 0, 'no side file copied');
    const reopened = openModel(temp.file);
    assert.ok(reopened.index.tensors.some((t) => t.storage.kind === 'external'));
    temp.dispose();
    assert.deepEqual(fs.readdirSync(dir).sort(), files);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
