/**
 * No command writes over its input: a report, a plan or a model aimed at an input model or at one
 * of its external data files is refused with one line before any work, and the input stays as it
 * was. An output folder that is missing or a folder as the output is refused as apply refuses it.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { dataFilesOf } from '../../../src/core/onnx/sameFile';
import { fixtureModels, repoRoot, tempDir } from '../../helpers/paths';

const cli = path.join(repoRoot, 'dist/cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const mlp = path.join(fixtureModels, 'mlp_everything.onnx');

function refused(r: ReturnType<typeof run>, message: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, message);
  assert.match(r.stderr, /^error: [^\n]*\n(\([^\n]*\)\n)?$/, 'one line (and where the options are listed)');
}

test('analyze --report, report -o and sensitivity --plan refuse to write over an input model', () => {
  const dir = tempDir();
  const model = path.join(dir, 'v.onnx');
  const baseline = path.join(dir, 'b.onnx');
  fs.copyFileSync(mlp, model);
  fs.copyFileSync(mlp, baseline);
  fs.symlinkSync(model, path.join(dir, 'link.onnx'));
  fs.linkSync(model, path.join(dir, 'hard.onnx'));
  fs.mkdirSync(path.join(dir, 'sub'));
  const sameAsModel = [model, path.join(dir, 'sub', '..', 'v.onnx'), path.join(dir, 'link.onnx'), path.join(dir, 'hard.onnx')];
  for (const output of sameAsModel) refused(run('analyze', model, '--report', output), /--report .* is the input model; nothing written/);
  refused(run('report', model, '--baseline', baseline, '-o', baseline), /--output .*b\.onnx is the baseline model; nothing written/);
  refused(run('report', model, '--baseline', baseline, '-o', model), /--output .*v\.onnx is the input model; nothing written/);
  refused(run('sensitivity', model, '--transform', '{"transform":"quantize"}', '--plan', model), /--plan .* is the input model; nothing written/);
  assert.ok(fs.readFileSync(model).equals(fs.readFileSync(mlp)));
  assert.ok(fs.readFileSync(baseline).equals(fs.readFileSync(mlp)));
});

test('a report into a folder or a missing folder is refused in one line, as apply refuses it, and creates nothing', () => {
  const dir = tempDir();
  fs.mkdirSync(path.join(dir, 'somedir'));
  refused(run('analyze', mlp, '--report', path.join(dir, 'somedir')), /somedir: is a folder, not a regular file; nothing written/);
  refused(run('analyze', mlp, '--report', path.join(dir, 'nodir', 'r.md')), /its folder .*nodir does not exist; nothing written/);
  refused(run('apply', mlp, '--recipe', path.join(dir, 'r.json'), '-o', path.join(dir, 'nodir', 'o.onnx')), /its folder .*nodir does not exist; nothing written/);
  assert.deepEqual(fs.readdirSync(dir), ['somedir']);
  const report = path.join(dir, 'r.md');
  assert.equal(run('analyze', mlp, '--no-redundancy', '--report', report).status, 0);
  assert.match(fs.readFileSync(report, 'utf8'), /^# ONNX Compress report/);
});

/** mlp_everything.onnx with its weights in `data` beside it, and a recipe that changes fc1 (fc2 stays in `data`). */
async function externalFixture(data = 'model.onnx.data'): Promise<{ dir: string; model: string; recipe: string }> {
  const dir = tempDir();
  const model = path.join(dir, 'model.onnx');
  await saveModel(openModel(mlp), model, { externalData: 'always', threshold: 64, dataFile: data });
  const recipe = path.join(dir, 'recipe.json');
  fs.writeFileSync(recipe, JSON.stringify({ version: 1, steps: [{ transform: 'quantize', layers: ['fc1'] }] }));
  return { dir, model, recipe };
}

test("apply and analyze refuse to write over the input's external data, or to give the output a side file that is it", async () => {
  const { dir, model, recipe } = await externalFixture();
  const data = path.join(dir, 'model.onnx.data');
  const original = fs.readFileSync(data);
  refused(run('apply', model, '--recipe', recipe, '-o', data), /--output .* is model\.onnx\.data, the input model's external data; nothing written/);
  refused(run('analyze', model, '--report', data), /is model\.onnx\.data, the input model's external data/);
  const other = await externalFixture('x.onnx.data');
  refused(run('apply', other.model, '--recipe', other.recipe, '-o', path.join(other.dir, 'x.onnx')), /would write its external data over x\.onnx\.data, the input model's external data/);
  assert.ok(fs.readFileSync(data).equals(original));
});

test('apply beside an external-data model writes its own side file; in place rewrites the model\'s with what is still read', async () => {
  const { dir, model, recipe } = await externalFixture();
  const out = path.join(dir, 'out.onnx');
  const r = run('apply', model, '--recipe', recipe, '-o', out);
  assert.equal(r.status, 0, r.stderr);
  const saved = openModel(out);
  assert.deepEqual(dataFilesOf(saved.proto, saved.dir), [`${out}.data`]);
  assert.match(r.stdout, /wrote .*out\.onnx: [^+]* \+ [^+]* external data in out\.onnx\.data \(was/);

  // The step replaces most of the side file's bytes: in place, the rest moves to a new side file
  // and the old one goes (the disk the compression frees is freed).
  const inPlace = run('apply', model, '--recipe', recipe, '--in-place');
  assert.equal(inPlace.status, 0, inPlace.stderr);
  assert.match(inPlace.stdout, /wrote .*model\.onnx: [^+]* \+ [^+]* external data in model\.onnx\.1\.data \(was/);
  const after = openModel(model);
  const kept = dataFilesOf(after.proto, after.dir);
  assert.deepEqual(kept, [path.join(dir, 'model.onnx.1.data')]);
  assert.equal(fs.existsSync(path.join(dir, 'model.onnx.data')), false);

  // Deleting the original's data does not break the model saved beside it.
  for (const f of kept) fs.rmSync(f);
  assert.equal(run('analyze', out, '--no-redundancy', '--json').status, 0);
});

test('a folder the user cannot write in: "nothing written", not "the existing file is unchanged"', (t) => {
  const dir = tempDir();
  fs.chmodSync(dir, 0o755);
  const recipe = path.join(dir, 'recipe.json');
  fs.writeFileSync(recipe, JSON.stringify({ version: 1, steps: [{ transform: 'quantize' }] }));
  const locked = path.join(dir, 'locked');
  fs.mkdirSync(locked, { mode: 0o555 });
  fs.chmodSync(locked, 0o555);
  // root writes anywhere: run the CLI as nobody then.
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const r = spawnSync(process.execPath, [cli, 'apply', mlp, '--recipe', recipe, '-o', path.join(locked, 'out.onnx')], { encoding: 'utf8', ...asUser });
  if (r.error) return t.skip(`cannot run as another user here: ${r.error.message}`);
  refused(r, /saving failed \(EACCES: no permission to write in .*locked\); nothing written/);
  assert.deepEqual(fs.readdirSync(locked), []);
});
