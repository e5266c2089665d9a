/**
 * The CLI on hostile input: every failure is one named, printable line and exit 2 (no raw
 * ENOENT, RegExp or stack-overflow message, no terminal escapes, no 10 MB line); a reader that
 * closes the pipe early ends the command quietly; nothing is silently ignored.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtureModels, repoRoot, tempDir, thirdPartyModels } from '../../helpers/paths';
import { encodeModel, graph, model, node, tensor } from '../../helpers/modelBuilder';
import { externalBytes, openModel } from '../../../src/core/onnx/model';
import { humanBytes } from '../../../src/shared/format';

const cli = path.join(repoRoot, 'dist/cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const mlp = path.join(fixtureModels, 'mlp_everything.onnx');

function failsWith(r: ReturnType<typeof run>, message: RegExp): void {
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, message);
  assert.doesNotMatch(r.stderr, /\n\s+at |ENOENT:|ENAMETOOLONG:|ENOTDIR:|Invalid regular expression|Maximum call stack/);
}

function recipe(dir: string, content: unknown): string {
  const file = path.join(dir, `recipe-${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

test('a reader that stops early ends the command quietly (no EPIPE stack trace, exit 0)', () => {
  const big = path.join(thirdPartyModels, 'ch_PP-OCRv4_rec_infer.onnx');
  const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" "${cli}" analyze "${big}" --json --no-redundancy --workers 1 | head -c 10 >/dev/null`], { encoding: 'utf8' });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
});

test('names in errors are shown with escapes for control characters and cut when huge', () => {
  const dir = tempDir();
  const ansi = path.join(dir, 'ansi.onnx');
  // raw_data of 3 bytes for a [2] float tensor: the error names the tensor.
  fs.writeFileSync(ansi, encodeModel(model(graph([node('Relu', ['w'], ['y'])], [tensor('\x1b[31mRED\x07', 1, [2], new Uint8Array(3))]))));
  const r = run('analyze', ansi);
  failsWith(r, /\\x1b\[31mRED\\x07/);
  assert.ok(!r.stderr.includes('\x1b') && !r.stderr.includes('\x07'), 'no raw escape or bell reaches the terminal');

  const huge = path.join(dir, 'huge.onnx');
  fs.writeFileSync(huge, encodeModel(model(graph([node('Relu', ['w'], ['y'])], [tensor('n'.repeat(10_000_000), 1, [2], new Uint8Array(3))]))));
  const h = run('analyze', huge);
  failsWith(h, /characters\]/);
  assert.ok(h.stderr.length < 5000, `error line of ${h.stderr.length} characters`);
});

test('recipes: a huge glob, deep nesting and a huge file are refused by name', () => {
  const dir = tempDir();
  const out = path.join(dir, 'out.onnx');
  const glob = recipe(dir, { version: 1, steps: [{ transform: 'prune', sparsity: 0.5, layers: ['*'.repeat(50_000) + 'a?'.repeat(50_000)] }] });
  failsWith(run('apply', mlp, '--recipe', glob, '-o', out), /no layer is named/);
  const deep = recipe(dir, `{"version":1,"steps":[{"transform":"prune","sparsity":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}]}`);
  failsWith(run('apply', mlp, '--recipe', deep, '-o', out), /nests objects or lists deeper than 64 levels/);
  const big = recipe(dir, `{"version":1,"steps":[],"pad":"${'x'.repeat(17 * 1024 * 1024)}"}`);
  failsWith(run('apply', mlp, '--recipe', big, '-o', out), /a recipe file is at most/);
  assert.equal(fs.existsSync(out), false);
});

test('a missing or unusable calibration.data path is named, not a raw ENOENT or ENAMETOOLONG', () => {
  const dir = tempDir();
  const out = path.join(dir, 'out.onnx');
  const missing = recipe(dir, { version: 1, steps: [{ transform: 'quantize', mode: 'static', calibration: { data: 'missing.npz' } }] });
  failsWith(run('apply', mlp, '--recipe', missing, '-o', out), /missing\.npz: does not exist/);
  const long = recipe(dir, { version: 1, steps: [{ transform: 'quantize', mode: 'static', calibration: { data: `${'a'.repeat(300)}.npz` } }] });
  failsWith(run('apply', mlp, '--recipe', long, '-o', out), /a name in it is too long/);
});

test('an output under a path that is a file names that, not ENOTDIR', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'file'), '');
  const r = recipe(dir, { version: 1, steps: [{ transform: 'quantize', dtype: 'int8' }] });
  failsWith(run('apply', mlp, '--recipe', r, '-o', path.join(dir, 'file', 'out.onnx')), /a part of its folder path is a file/);
});

test('--labels without --data is an error, not ignored', () => {
  failsWith(run('eval', mlp, '--labels', 'labels.npy'), /--labels goes with --data/);
});

test('apply reports the input size with its external data, not the .onnx alone', () => {
  const dir = tempDir();
  for (const f of ['external.onnx', 'external.onnx.data']) fs.copyFileSync(path.join(fixtureModels, f), path.join(dir, f));
  const r = recipe(dir, { version: 1, steps: [{ transform: 'quantize', dtype: 'float16' }] });
  const text = run('apply', path.join(dir, 'external.onnx'), '--recipe', r, '-o', path.join(dir, 'out.onnx'));
  assert.equal(text.status, 0, text.stderr);
  const dataBytes = fs.statSync(path.join(dir, 'external.onnx.data')).size;
  assert.match(text.stdout, /\(was [\d.]+ [KMG]?i?B \+ [\d.]+ [KMG]?i?B external data\)/);
  const json = JSON.parse(run('apply', path.join(dir, 'external.onnx'), '--recipe', r, '-o', path.join(dir, 'out2.onnx'), '--json').stdout);
  assert.ok(json.dataBytesBefore > 0 && json.dataBytesBefore <= dataBytes, `dataBytesBefore ${json.dataBytesBefore} of ${dataBytes}`);
});

test('apply and analyze state the same external data (tensor bytes); apply gives the padded side file apart', () => {
  const dir = tempDir();
  const out = path.join(dir, 'out.onnx');
  const cls = path.join(thirdPartyModels, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
  const json = JSON.parse(run('apply', cls, '--recipe', path.join(repoRoot, 'recipes/default.json'), '-o', out, '--external-data', 'always', '--json').stdout);
  assert.equal(json.dataBytesAfter, externalBytes(openModel(out).index));
  assert.equal(json.dataFileBytesAfter, fs.statSync(json.dataFileAfter).size);
  assert.ok(json.dataFileBytesAfter > json.dataBytesAfter, 'tensors of 4 KiB or more are aligned');
  const stated = (text: string): string => /\+ ([\d.]+ [KMG]?i?B) external data/.exec(text)?.[1] ?? text;
  assert.equal(stated(run('analyze', out).stdout), humanBytes(json.dataBytesAfter));
});

test('--shape naming an input the model does not have is an error, not ignored', () => {
  failsWith(run('analyze', mlp, '--shape', 'nope=1x8', '--workers', '1'), /--shape names 'nope', which is not an input of the model/);
  failsWith(run('analyze', mlp, '--shape', 'nope=1x8'), /--shape names 'nope', which is not an input of the model/);
  failsWith(run('eval', mlp, '--shape', 'nope=4x8'), /--shape names 'nope', which is not an input of the model/);
});

test('analyze refuses the --dim and --shape that eval refuses, in the same words (no MACs of another shape)', () => {
  const cls = path.join(thirdPartyModels, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
  const cases: [string, string, RegExp][] = [
    ['--dim', 'foo=3', /--dim names no dim 'foo'; the model's named dims: p2o\.DynamicDimension\.0/],
    ['--shape', 'x=1x3x48', /--shape x has 3 dims; the input has 4/],
    ['--shape', 'x=1x4x48x192', /--shape x: axis 1 \(0-based\) of input 'x' is fixed at 3 in the model/],
  ];
  for (const [option, value, message] of cases) {
    failsWith(run('analyze', cls, option, value, '--no-redundancy', '--workers', '1'), message);
    failsWith(run('eval', cls, option, value, '--limit', '1'), message);
  }
  assert.equal(run('analyze', cls, '--shape', 'x=1x3x48x192', '--no-redundancy', '--workers', '1').status, 0);
});

test('shares out of range and targets given twice are errors, not ignored', () => {
  failsWith(run('analyze', mlp, '--epsilon', '2'), /--epsilon needs a number between 0 and 1, not 2/);
  const step = '{"transform": "quantize"}';
  failsWith(run('sensitivity', mlp, '--transform', step, '--target-ratio', '1.5'), /--target-ratio needs a number between 0 and 1, not 1\.5/);
  failsWith(run('sensitivity', mlp, '--transform', step, '--target-bytes', '10', '--target-ratio', '0.5'), /give --target-bytes or --target-ratio, not both/);
});

test('apply of a prune that zeroes nothing writes nothing and exits 3, as any step that changes nothing', () => {
  const dir = tempDir();
  const out = path.join(dir, 'out.onnx');
  const r = run('apply', mlp, '--recipe', recipe(dir, { version: 1, steps: [{ transform: 'prune', layers: '*', sparsity: 0 }] }), '-o', out);
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.match(r.stdout + r.stderr, /nothing changed/);
  assert.match(r.stdout + r.stderr, /sparsity 0 zeroes no weight that is not zero already/);
  assert.equal(fs.existsSync(out), false);
});
