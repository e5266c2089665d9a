/**
 * A save killed (SIGKILL) at any point leaves the path holding the whole old model or the whole
 * new one, never a mix; the next save removes what the killed one left behind.
 *
 * The test runs this same file as a child that saves in place and kills itself just before its
 * k-th file-system step (a write is cut in half first), for k = 1, 2, … until a save completes.
 * It prints the kill table (scenario × outcome: old / new / torn).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { openModel } from '../../../src/core/onnx/model';
import { dataFilesOf } from '../../../src/core/onnx/sameFile';
import { saveModel, type SaveOptions } from '../../../src/core/onnx/writeModel';
import { mapTensors } from '../../../src/core/onnx/mapTensors';
import { readDenseFloat32, readRawBytes } from '../../../src/core/onnx/tensorData';
import { fixtureModels, tempDir } from '../../helpers/paths';

interface Scenario {
  readonly name: string;
  /** How the old model is laid out on disk. */
  readonly old: SaveOptions;
  /** How the in-place save writes the new one. */
  readonly save: SaveOptions;
}

// The 2 GiB protobuf limit is lowered to 1,400 bytes so the "too big, go external" path runs.
const scenarios: Scenario[] = [
  { name: 'inline → inline', old: { externalData: 'never' }, save: { externalData: 'never' } },
  { name: 'external → external', old: { externalData: 'always', threshold: 64 }, save: { externalData: 'always', threshold: 64 } },
  { name: 'inline → over the limit', old: { externalData: 'never' }, save: { maxProtobufBytes: 1400, threshold: 64 } },
  { name: 'external → inline', old: { externalData: 'always', threshold: 64 }, save: { externalData: 'never' } },
  { name: 'external → over the limit', old: { externalData: 'always', threshold: 64 }, save: { maxProtobufBytes: 1400, threshold: 64 } },
];

const CHILD = 'ONNX_COMPRESS_KILL_CHILD';

/**
 * The edit: w1 gets fixed new values and the model a metadata entry (so an old .onnx beside new
 * data reads as neither); saving twice gives the same model.
 */
async function saveEdited(file: string, options: SaveOptions, compact = false): Promise<void> {
  const m = openModel(file);
  if (compact) options = { ...options, compact: { previousDataFiles: dataFilesOf(m.proto, m.dir) } };
  const metadataProps = [...m.proto.metadataProps.filter((p) => p.key !== 'edited'), { key: 'edited', value: 'yes' }];
  const edited = mapTensors({ ...m.proto, metadataProps }, (t) => {
    if (t.name !== 'w1') return t;
    const values = new Float32Array(Number(t.dims.reduce((a, b) => Number(a) * Number(b), 1))).map((_, i) => i + 0.5);
    return { ...t, rawData: new Uint8Array(values.buffer), dataLocation: undefined, externalData: [], floatData: [] };
  });
  await saveModel({ proto: edited, dir: m.dir, file: m.file }, file, options);
}

/** A digest of every tensor's bytes and the graph's nodes; throws when the model cannot be read whole. */
async function digest(file: string): Promise<string> {
  const m = openModel(file);
  const h = crypto.createHash('sha256');
  for (const t of m.index.tensors) {
    h.update(`${t.name}:${t.dataType}:${t.dims.join('x')}:`);
    h.update(t.storage.kind === 'sparse' ? new Uint8Array((await readDenseFloat32(t)).buffer) : await readRawBytes(t));
  }
  h.update(m.index.nodes.map((n) => n.label).join(','));
  h.update(JSON.stringify(m.proto.metadataProps.map((p) => [p.key, p.value])));
  return h.digest('hex');
}

/** Counts file-system steps and kills the process just before step `killAt`. */
async function hookFileSystem(killAt: number): Promise<void> {
  let step = 0;
  const tick = (): boolean => ++step === killAt;
  const die = (): never => {
    process.kill(process.pid, 'SIGKILL');
    throw new Error('unreachable');
  };
  const p = fs.promises as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of ['rename', 'rm', 'unlink', 'chmod', 'link', 'copyFile']) {
    const original = p[name];
    p[name] = async (...args: unknown[]) => (tick() ? die() : original.apply(fs.promises, args));
  }
  const probe = await fs.promises.open(__filename, 'r');
  const proto = Object.getPrototypeOf(probe) as Record<string, (...args: unknown[]) => Promise<unknown>>;
  await probe.close();
  const writev = proto.writev;
  proto.writev = async function (this: fs.promises.FileHandle, ...args: unknown[]) {
    if (!tick()) return writev.apply(this, args);
    const buffers = args[0] as Uint8Array[];
    // Cut the write in half, then die: the file on disk is partly written.
    const first = buffers.find((b) => b.length > 0);
    if (first) await this.write(first.subarray(0, Math.max(1, first.length >> 1)));
    return die();
  };
  for (const name of ['datasync', 'sync']) {
    const original = proto[name];
    proto[name] = async function (this: unknown, ...args: unknown[]) {
      return tick() ? die() : original.apply(this, args);
    };
  }
}

async function child(): Promise<void> {
  const { file, killAt, save } = JSON.parse(process.env[CHILD]!) as { file: string; killAt: number; save: SaveOptions };
  await hookFileSystem(killAt);
  await saveEdited(file, save);
}

if (process.env[CHILD]) {
  child().then(
    () => process.exit(0),
    (e) => {
      process.stderr.write(`${(e as Error).stack}\n`);
      process.exit(1);
    },
  );
} else {
  test('a save killed at any step leaves the whole old or the whole new model, and the next save cleans up', async () => {
    const rows: string[] = [];
    let torn = 0;
    const leftovers: string[] = [];
    for (const s of scenarios) {
      const counts = { old: 0, new: 0, torn: 0, leftovers: 0 };
      // Reference digests: the old model as laid out, and the new one after a complete save.
      const ref = tempDir();
      const refFile = path.join(ref, 'model.onnx');
      await saveModel(openModel(path.join(fixtureModels, 'mlp_everything.onnx')), refFile, s.old);
      const oldDigest = await digest(refFile);
      await saveEdited(refFile, s.save);
      // The layout a compacting save leaves after a complete one: the reference for leftovers.
      const next = path.join(tempDir(), 'model.onnx');
      await saveModel(openModel(path.join(fixtureModels, 'mlp_everything.onnx')), next, s.old);
      await saveEdited(next, s.save);
      await saveEdited(next, s.save, true);
      const settled = fs.readdirSync(path.dirname(next)).length;
      const newDigest = await digest(refFile);
      assert.notEqual(oldDigest, newDigest);

      for (let killAt = 1; ; killAt++) {
        assert.ok(killAt < 100, `${s.name}: the save never completed`);
        const dir = tempDir();
        const file = path.join(dir, 'model.onnx');
        await saveModel(openModel(path.join(fixtureModels, 'mlp_everything.onnx')), file, s.old);
        const run = spawnSync(process.execPath, [__filename], {
          env: { ...process.env, [CHILD]: JSON.stringify({ file, killAt, save: s.save }) },
          encoding: 'utf8',
        });
        const completed = run.status === 0;
        assert.ok(completed || run.signal === 'SIGKILL', `${s.name} kill ${killAt}: ${run.stderr}`);
        let outcome: 'old' | 'new' | 'torn';
        try {
          const d = await digest(file);
          outcome = d === oldDigest ? 'old' : d === newDigest ? 'new' : 'torn';
        } catch {
          outcome = 'torn';
        }
        counts[outcome]++;
        if (outcome === 'torn') torn++;
        if (completed) assert.equal(outcome, 'new', `${s.name}: a completed save gives the new model`);
        // The next save in this folder (another process: this one), freeing what it can as `apply
        // --in-place` does, removes the leftovers (the editor's save keeps side files older than
        // its model: its undo may read them).
        await saveEdited(file, s.save, true);
        assert.equal(await digest(file), newDigest);
        if (fs.readdirSync(dir).length !== settled) {
          counts.leftovers++;
          leftovers.push(`${s.name} kill ${killAt}: ${fs.readdirSync(dir).join(', ')}`);
        }
        if (completed) break;
      }
      rows.push(`${s.name.padEnd(28)} ${String(counts.old).padStart(4)} ${String(counts.new).padStart(4)} ${String(counts.torn).padStart(5)} ${String(counts.leftovers).padStart(9)}`);
    }
    console.log(['kill table (SIGKILL before each file-system step of an in-place save)', `${'scenario'.padEnd(28)}  old  new  torn  leftovers`, ...rows].join('\n'));
    assert.equal(torn, 0, 'no kill may leave a torn model');
    assert.deepEqual(leftovers, [], 'the next save removes what a killed one left');
  });
}
