/**
 * What a save may replace: a regular file (keeping its permissions) or the target of a symbolic
 * link; never a device, a FIFO or a folder, which are refused by name with nothing written.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { OnnxError } from '../../../src/core/errors';
import { openModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { fixtureModels, tempDir } from '../../helpers/paths';

const source = (): ReturnType<typeof openModel> => openModel(path.join(fixtureModels, 'mlp_everything.onnx'));

async function refused(target: string, kind: RegExp): Promise<void> {
  await assert.rejects(saveModel(source(), target), (e: unknown) => {
    assert.ok(e instanceof OnnxError, String(e));
    assert.equal(e.code, 'io');
    assert.match(e.message, kind);
    assert.match(e.message, /nothing written/);
    return true;
  });
  assert.deepEqual(fs.readdirSync(path.dirname(target)).filter((n) => n.endsWith('.tmp')), [], 'no temp file left');
}

test('a FIFO, a folder or a device as the destination is refused and stays what it was', async () => {
  const dir = tempDir();
  const fifo = path.join(dir, 'pipe.onnx');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  await refused(fifo, /is a FIFO/);
  assert.ok(fs.lstatSync(fifo).isFIFO());

  const folder = path.join(dir, 'folder.onnx');
  fs.mkdirSync(folder);
  await refused(folder, /is a folder/);
  assert.ok(fs.lstatSync(folder).isDirectory());

  // A character device like /dev/null (made here, so a regression cannot harm the real one).
  const device = path.join(dir, 'null');
  if (spawnSync('mknod', [device, 'c', '1', '3']).status === 0) {
    await refused(device, /is a device/);
    assert.ok(fs.lstatSync(device).isCharacterDevice());
  }
});

test('saving through a symbolic link keeps the link and replaces its target', async () => {
  const dir = tempDir();
  const real = path.join(dir, 'real.onnx');
  fs.writeFileSync(real, 'old');
  const link = path.join(dir, 'link.onnx');
  fs.symlinkSync('real.onnx', link);
  await saveModel(source(), link);
  assert.ok(fs.lstatSync(link).isSymbolicLink());
  assert.deepEqual(fs.readFileSync(real), fs.readFileSync(path.join(fixtureModels, 'mlp_everything.onnx')));
});

test('an in-place save keeps the file private: 0600 stays 0600, for the side file too', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'model.onnx');
  fs.copyFileSync(path.join(fixtureModels, 'mlp_everything.onnx'), file);
  fs.chmodSync(file, 0o600);
  const saved = await saveModel(openModel(file), file, { externalData: 'always', threshold: 64 });
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(saved.dataFile!).mode & 0o777, 0o600);
});

test('a side file rewritten in place stays as private as the one it replaces, even when the model is less so', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'model.onnx');
  const first = await saveModel(openModel(path.join(fixtureModels, 'mlp_everything.onnx')), file, { externalData: 'always', threshold: 64 });
  fs.chmodSync(file, 0o640);
  fs.chmodSync(first.dataFile!, 0o600);
  const m = openModel(file);
  const saved = await saveModel(m, file, { externalData: 'always', threshold: 64, compact: { previousDataFiles: [first.dataFile!] } });
  assert.notEqual(saved.dataFile, first.dataFile, 'written to a new side file');
  assert.equal(fs.statSync(saved.dataFile!).mode & 0o777, 0o600);
  assert.equal(fs.statSync(file).mode & 0o777, 0o640);
});
