/**
 * A saved model is self-contained: saved to another file it carries its own copy of the external
 * data, so deleting or replacing the model it came from cannot break it. Only a save over the
 * source's own file keeps the side files where they are (rewritten with what is still read when
 * an edit left most of one unread), and no save writes over or removes a file the source reads.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { saveModel, type SaveOptions } from '../../../src/core/onnx/writeModel';
import { dataFilesOf } from '../../../src/core/onnx/sameFile';
import { mapTensors } from '../../../src/core/onnx/mapTensors';
import { readDenseFloat32, readRawBytes } from '../../../src/core/onnx/tensorData';
import { fixtureModels, tempDir } from '../../helpers/paths';

/** mlp_everything.onnx with its weights in a side file (`dataFile`, default model.onnx.data). */
async function externalModel(dataFile?: string): Promise<{ dir: string; model: string; data: string }> {
  const dir = tempDir();
  const model = path.join(dir, 'model.onnx');
  const options: SaveOptions = { externalData: 'always', threshold: 64, ...(dataFile ? { dataFile } : {}) };
  const saved = await saveModel(openModel(path.join(fixtureModels, 'mlp_everything.onnx')), model, options);
  assert.ok(saved.dataFile && saved.externalTensors > 0);
  return { dir, model, data: saved.dataFile };
}

async function readAll(file: string): Promise<number> {
  const m = openModel(file);
  let bytes = 0;
  for (const t of m.index.tensors) bytes += (t.storage.kind === 'sparse' ? await readDenseFloat32(t) : await readRawBytes(t)).length;
  return bytes;
}

test('saved to another file beside an external-data model, the copy has its own side file and outlives the original', async () => {
  const { dir, model, data } = await externalModel();
  const out = path.join(dir, 'out.onnx');
  const saved = await saveModel(openModel(model), out);
  const copy = openModel(out);
  assert.deepEqual(dataFilesOf(copy.proto, copy.dir), [path.join(dir, 'out.onnx.data')]);
  assert.equal(saved.dataFile, path.join(dir, 'out.onnx.data'));
  assert.equal(saved.keptDataBytes, 0);
  const bytes = await readAll(out);
  fs.rmSync(data);
  assert.equal(await readAll(out), bytes, 'out.onnx reads nothing of model.onnx.data');
});

test('saved over its own file, a model keeps its side file where it is and says so', async () => {
  const { model, data } = await externalModel();
  const before = fs.statSync(data).ino;
  const saved = await saveModel(openModel(model), model);
  assert.equal(saved.dataBytes, 0);
  assert.ok(saved.keptDataBytes > 0);
  assert.deepEqual(saved.keptDataFiles, [data]);
  assert.equal(fs.statSync(data).ino, before, 'not rewritten');
});

test("a save to one of the source's external data files is refused and the data stays", async () => {
  const { model, data } = await externalModel();
  const original = fs.readFileSync(data);
  await assert.rejects(saveModel(openModel(model), data), /model\.onnx\.data, the model being saved's external data; nothing written/);
  assert.ok(fs.readFileSync(data).equals(original));
});

test("a save whose side-file names include the source's data file leaves that file alone", async () => {
  // model.onnx reads x.onnx.data: saving it as x.onnx must not clean x.onnx.data up as a stale side file.
  const { dir, model, data } = await externalModel('x.onnx.data');
  const bytes = await readAll(model);
  await saveModel(openModel(model), path.join(dir, 'x.onnx'));
  assert.ok(fs.existsSync(data));
  assert.equal(await readAll(model), bytes);
  assert.equal(await readAll(path.join(dir, 'x.onnx')), bytes);
});

test('a failed save says "nothing written" for a new file and "unchanged" for one it would replace', async () => {
  const dir = tempDir();
  const options: SaveOptions = { externalData: 'always', threshold: 64, dataFile: 'missing/data.bin' };
  const source = (): ReturnType<typeof openModel> => openModel(path.join(fixtureModels, 'mlp_everything.onnx'));
  const fresh = path.join(dir, 'new.onnx');
  await assert.rejects(saveModel(source(), fresh, options), (e: Error) => /saving failed \(ENOENT\); nothing written$/.test(e.message));
  assert.equal(fs.existsSync(fresh), false);
  const existing = path.join(dir, 'old.onnx');
  fs.copyFileSync(path.join(fixtureModels, 'mlp_everything.onnx'), existing);
  await assert.rejects(saveModel(source(), existing, options), (e: Error) => /saving failed \(ENOENT\); the existing file is unchanged$/.test(e.message));
});

test('saved over its own file after an edit replaced most of its external data, the side file keeps only what is still read', async () => {
  const { model, data } = await externalModel();
  const source = openModel(model);
  const external = source.index.tensors.filter((t) => t.storage.kind === 'external').sort((a, b) => b.bytes - a.bytes);
  const replaced = new Set(external.slice(0, Math.ceil(external.length / 2)).map((t) => t.name));
  const keptBytes = external.filter((t) => !replaced.has(t.name)).reduce((n, t) => n + t.bytes, 0);
  assert.ok(keptBytes < fs.statSync(data).size / 2, 'the edit leaves most of the side file unread');
  // The edit: the replaced tensors' new values are inline (zeros of the same type and shape).
  const proto = mapTensors(source.proto, (t) =>
    replaced.has(t.name ?? '') ? { ...t, dataLocation: 0, externalData: [], rawData: new Uint8Array(source.index.tensors.find((s) => s.name === t.name)!.bytes) } : t,
  );
  const before = await Promise.all(external.filter((t) => !replaced.has(t.name)).map((t) => readRawBytes(t)));
  const saved = await saveModel({ proto, dir: source.dir, file: source.file }, model, { compact: { previousDataFiles: dataFilesOf(source.proto, source.dir) } });
  assert.equal(fs.existsSync(data), false, 'the old side file is gone');
  assert.ok(saved.dataFile && saved.dataTensorBytes === keptBytes, `${saved.dataTensorBytes} bytes rewritten, ${keptBytes} still read`);
  assert.ok(fs.statSync(saved.dataFile).size < keptBytes + 4096 * external.length);
  const after = openModel(model);
  const kept = after.index.tensors.filter((t) => t.storage.kind === 'external');
  assert.deepEqual(await Promise.all(kept.map((t) => readRawBytes(t))), before, 'the kept tensors read the same bytes');
});

test('a side file another model in the folder reads (a copy, a hard link of the model) is neither rewritten nor removed by a save over its model', async () => {
  for (const other of ['copy', 'hard link'] as const) {
    const { dir, model, data } = await externalModel();
    const backup = path.join(dir, 'backup.onnx');
    if (other === 'copy') fs.copyFileSync(model, backup);
    else fs.linkSync(model, backup);
    const bytes = await readAll(backup);
    const source = openModel(model);
    // every external tensor replaced: the side file is all waste for model.onnx
    const proto = mapTensors(source.proto, (t) => (t.dataLocation === 1 ? { ...t, dataLocation: 0, externalData: [], rawData: new Uint8Array(source.index.tensors.find((s) => s.name === t.name)!.bytes) } : t));
    const saved = await saveModel({ proto, dir: source.dir, file: source.file }, model, { compact: { previousDataFiles: dataFilesOf(source.proto, source.dir) }, externalData: 'always', threshold: 64 });
    assert.ok(fs.existsSync(data), `${other}: the side file stays`);
    assert.equal(await readAll(backup), bytes, `${other}: the backup reads what it read`);
    assert.deepEqual(saved.leftDataFiles.map((l) => l.file), [data], `${other}: it says which file it left`);
    assert.match(saved.leftDataFiles[0].reason, other === 'copy' ? /backup\.onnx reads it/ : /hard link/);
  }
});

test('saved over its own file, side files of any name the model read and no longer reads go (weights.bin, as other tools name them)', async () => {
  const { dir, model, data } = await externalModel('weights.bin');
  const source = openModel(model);
  const previousDataFiles = dataFilesOf(source.proto, source.dir);
  const proto = mapTensors(source.proto, (t) => (t.dataLocation === 1 ? { ...t, dataLocation: 0, externalData: [], rawData: new Uint8Array(source.index.tensors.find((s) => s.name === t.name)!.bytes) } : t));
  const saved = await saveModel({ proto, dir: source.dir, file: source.file }, model, { compact: { previousDataFiles } });
  assert.equal(fs.existsSync(data), false, 'weights.bin, read by nothing now, is gone');
  assert.deepEqual(saved.leftDataFiles, []);
  assert.deepEqual(fs.readdirSync(dir), ['model.onnx']);
  // Without `compact` (the editor's save: its undo may read it) the file stays.
  const again = await externalModel('weights.bin');
  const before = openModel(again.model);
  const proto2 = mapTensors(before.proto, (t) => (t.dataLocation === 1 ? { ...t, dataLocation: 0, externalData: [], rawData: new Uint8Array(before.index.tensors.find((s) => s.name === t.name)!.bytes) } : t));
  await saveModel({ proto: proto2, dir: before.dir, file: before.file }, again.model, {});
  assert.ok(fs.existsSync(again.data));
});

/** The model at `model` with its `share` largest external tensors replaced by inline zeros, as an edit leaves it. */
function edited(model: string, share: number): { source: ReturnType<typeof openModel>; proto: ReturnType<typeof mapTensors> } {
  const source = openModel(model);
  const external = source.index.tensors.filter((t) => t.storage.kind === 'external').sort((a, b) => b.bytes - a.bytes);
  const replaced = new Set(external.slice(0, Math.ceil(external.length * share)).map((t) => t.name));
  const proto = mapTensors(source.proto, (t) =>
    replaced.has(t.name ?? '') ? { ...t, dataLocation: 0, externalData: [], rawData: new Uint8Array(source.index.tensors.find((s) => s.name === t.name)!.bytes) } : t,
  );
  return { source, proto };
}

test('a backup of any name that reads the side file (model.onnx.bak) keeps it whole: not rewritten, not removed', async () => {
  const { dir, model, data } = await externalModel();
  fs.copyFileSync(model, path.join(dir, 'model.onnx.bak'));
  const inode = fs.statSync(data).ino;
  const { source, proto } = edited(model, 0.5);
  const saved = await saveModel({ proto, dir: source.dir, file: source.file }, model, { compact: { previousDataFiles: [data] } });
  assert.equal(saved.dataFile, undefined, 'no new side file: the old one is not rewritten');
  assert.equal(fs.statSync(data).ino, inode);
  assert.ok((await readAll(path.join(dir, 'model.onnx.bak'))) > 0, 'the backup reads all its tensors');
});

test('saved over its model without `compact` (the editor), no side file is removed, even one the saved model no longer reads', async () => {
  const { model, data } = await externalModel();
  const { source, proto } = edited(model, 1);
  const saved = await saveModel({ proto, dir: source.dir, file: source.file }, model);
  assert.ok(fs.existsSync(data), 'the undo can still read the replaced tensors');
  assert.deepEqual(saved.leftDataFiles, []);
});
