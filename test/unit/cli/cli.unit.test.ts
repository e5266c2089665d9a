/** The CLI as a user runs it: `node dist/cli.js analyze`, its JSON contract and its exit codes. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fixtureModels, repoRoot, tempDir, thirdPartyModels } from '../../helpers/paths';

const cli = path.join(repoRoot, 'dist/cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('analyze --json follows the published shape', () => {
  const r = run('analyze', path.join(thirdPartyModels, 'silero_vad_v5.onnx'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const key of ['file', 'fileBytes', 'irVersion', 'opsets', 'producer', 'nodeCount', 'parameterCount', 'weightBytes']) {
    assert.ok(key in out.model, `model.${key}`);
  }
  assert.equal(out.model.file, 'silero_vad_v5.onnx');
  for (const layer of out.layers) {
    assert.deepEqual(Object.keys(layer).filter((k) => ['name', 'opType', 'params', 'bytes', 'weights'].includes(k)).length, 5);
    for (const w of layer.weights) for (const key of ['name', 'dataType', 'shape', 'elements', 'bytes']) assert.ok(key in w);
    assert.equal(layer.params, layer.weights.reduce((n: number, w: { elements: number }) => n + w.elements, 0));
    assert.equal(typeof layer.storedAs.label, 'string');
    assert.equal(typeof layer.storedAs.dataType, 'string');
  }
  const total = out.layers.reduce((n: number, l: { params: number }) => n + l.params, 0) + out.unattributed.reduce((n: number, w: { elements: number }) => n + w.elements, 0);
  assert.equal(total, out.model.parameterCount);
  // Statistics on every weight, redundancy on every layer with a float weight.
  for (const layer of out.layers) {
    for (const w of layer.weights) {
      for (const key of ['min', 'max', 'mean', 'std', 'zeroFraction', 'nearZeroFraction']) assert.equal(typeof w.stats[key], 'number', key);
      assert.equal(w.stats.histogram.counts.length, 256);
      assert.equal(w.stats.histogram.counts.reduce((a: number, b: number) => a + b, 0), w.elements);
    }
    for (const key of ['rank90', 'rank99', 'int8SqnrDb', 'int4SqnrDb', 'cluster16SqnrDb', 'entropyBitsInt8']) assert.ok(key in layer.redundancy, key);
    assert.ok(layer.redundancy.int8SqnrDb > layer.redundancy.int4SqnrDb, 'INT8 beats INT4');
  }
  assert.ok(out.estimates.int8PerChannelBytes < out.estimates.float16Bytes);
});

test('analyze --no-redundancy skips the costly estimates but keeps the statistics', () => {
  const r = run('analyze', path.join(fixtureModels, 'mlp_everything.onnx'), '--json', '--no-redundancy', '--bins', '16');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  const fc1 = out.layers.find((l: { name: string }) => l.name === 'fc1');
  // FLOAT[8x16]: 256 bytes at FP16; 128 INT8 codes + 8 float scales; 64 bytes of INT4 + scales; 4-bit indices + codebook.
  // What quantize writes: codes + one FLOAT scale per output channel (16: the MatMul's last axis).
  assert.deepEqual(fc1.sizeAt, { float16: 256, int8: 128 + 64, int4: 64 + 64, cluster16: 64 + 64 });
  assert.equal(fc1.share, 512 / out.model.weightBytes);
  for (const layer of out.layers) {
    assert.equal(layer.redundancy, null);
    for (const w of layer.weights) assert.equal(w.stats.histogram.counts.length, 16);
  }
  assert.equal(run('analyze', path.join(fixtureModels, 'mlp_everything.onnx'), '--bins', '0').status, 2);
});

test('analyze --dim resolves symbolic dims for MACs; without it the unresolved layers are named', () => {
  const model = path.join(fixtureModels, 'macs_mix.onnx');
  const resolved = JSON.parse(run('analyze', model, '--json', '--no-redundancy', '--dim', 'batch=2').stdout);
  assert.equal(resolved.macs.total, 52416 + 46592 + 14560 + 100 + 1200);
  assert.deepEqual(resolved.macs.unresolved, []);
  assert.equal(resolved.layers.find((l: { name: string }) => l.name === 'conv').macs, 52416);
  const open = JSON.parse(run('analyze', model, '--json', '--no-redundancy').stdout);
  assert.equal(open.layers.find((l: { name: string }) => l.name === 'conv').macs, null);
  assert.equal(open.macs.unresolved.length, 5);
  const text = run('analyze', model, '--no-redundancy').stdout;
  assert.match(text, /unknown MACs per inference \(5 of 5 Conv\/Gemm\/MatMul\/RNN nodes have shapes the inference did not reach/);
  assert.equal(run('analyze', model, '--dim', 'batch').status, 2);
  // A whole input shape, for inputs whose dims have no names.
  const shaped = JSON.parse(run('analyze', model, '--json', '--no-redundancy', '--shape', 'x=2x4x27x27').stdout);
  assert.equal(shaped.macs.total, resolved.macs.total);
  assert.equal(run('analyze', model, '--shape', 'x=2x').status, 2);
});

test('analyze prints a table and writes a Markdown report', () => {
  const report = path.join(tempDir(), 'report.md');
  const r = run('analyze', path.join(fixtureModels, 'mlp_everything.onnx'), '--report', report);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /fc1\s+MatMul\s+FP32\s+FLOAT\[8x16\]\s+128\s+512 B\s+62\.6%/);
  assert.match(r.stdout, /fc3\s+MatMul\s+INT8 per-tensor\s+INT8\[4x4\]/);
  assert.match(r.stdout, /fc2\s+MatMul\s+FP16\s/);
  assert.match(fs.readFileSync(report, 'utf8'), /\| fc1 \| MatMul \| FP32 \| FLOAT\[8x16\] \| 128 \| 512 B \| 62\.6% \|/);
});

test('bad input exits 2 with one line and no stack trace', () => {
  const dir = tempDir();
  const bad = path.join(dir, 'bad.onnx');
  fs.writeFileSync(bad, Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  const r = run('analyze', bad);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /^error: bad\.onnx: not an ONNX model: it starts like a PNG image/);
  const debug = run('analyze', bad, '--debug');
  assert.equal(debug.status, 2);
  assert.match(debug.stderr, /at /, 'stack trace with --debug');
  assert.equal(run('analyze').status, 2);
  assert.equal(run('frobnicate', bad).status, 2);
  assert.equal(run('analyze', path.join(dir, 'missing.onnx')).status, 2);
});

test('the bundled sample scores in onnxruntime what PyTorch measured when it was trained (samples/digits-reference.json)', () => {
  const reference = JSON.parse(fs.readFileSync(path.join(repoRoot, 'samples/digits-reference.json'), 'utf8')) as { testSamples: number; top1Accuracy: number };
  const r = run('eval', path.join(repoRoot, 'samples/digits-cnn.onnx'), '--data', path.join(repoRoot, 'samples/digits-test.npz'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { samples: number; candidate: { accuracy: number } };
  assert.equal(out.samples, reference.testSamples);
  assert.ok(Math.abs(out.candidate.accuracy - reference.top1Accuracy) < 1e-9, `${out.candidate.accuracy} vs ${reference.top1Accuracy}`);
});

/** A folder holding a copy of the fixture MLP and a recipe file of these steps. */
function applyFixture(...steps: unknown[]): { dir: string; model: string; recipe: string } {
  const dir = tempDir();
  const model = path.join(dir, 'mlp.onnx');
  fs.copyFileSync(path.join(fixtureModels, 'mlp_everything.onnx'), model);
  const recipe = path.join(dir, 'recipe.json');
  fs.writeFileSync(recipe, JSON.stringify({ version: 1, steps }));
  return { dir, model, recipe };
}

test('apply that changes no layer writes nothing, exits 3 and says why for each layer', () => {
  const { dir, model, recipe } = applyFixture({ transform: 'factorize', rank: 4096 });
  const out = path.join(dir, 'out.onnx');
  const r = run('apply', model, '--recipe', recipe, '--output', out);
  assert.equal(r.status, 3, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^nothing changed: 0 of 7 layers could take step 1 \(Factorize all layers at rank 4096\)\n/);
  assert.match(r.stderr, /skipped fc1 \(MatMul\): rank \d+ needs \d+ parameters/);
  assert.match(r.stderr, /skipped fc1_bias \(Add\): Add is not factorized/);
  assert.equal(fs.existsSync(out), false, 'no output file');

  const json = run('apply', model, '--recipe', recipe, '--output', out, '--json');
  assert.equal(json.status, 3);
  const report = JSON.parse(json.stdout);
  assert.match(report.nothingChanged, /^nothing changed: 0 of 7 layers/);
  assert.equal(report.output, null);
  assert.equal(report.steps[0].skipped.length, 7);
  assert.equal(fs.existsSync(out), false);
});

test('apply exits 3 on weights that are quantized already; a recipe where one step changes something exits 0', () => {
  const { dir, model, recipe } = applyFixture({ transform: 'quantize' });
  const once = path.join(dir, 'once.onnx');
  assert.equal(run('apply', model, '--recipe', recipe, '--output', once).status, 0);
  const twice = run('apply', once, '--recipe', recipe, '--output', path.join(dir, 'twice.onnx'));
  assert.equal(twice.status, 3, twice.stderr);
  assert.match(twice.stderr, /skipped fc1 \(MatMul\): .*INT8/);
  assert.equal(fs.existsSync(path.join(dir, 'twice.onnx')), false);

  fs.writeFileSync(recipe, JSON.stringify({ version: 1, steps: [{ transform: 'factorize', rank: 4096 }, { transform: 'quantize' }] }));
  const partial = run('apply', model, '--recipe', recipe, '--output', path.join(dir, 'partial.onnx'));
  assert.equal(partial.status, 0, partial.stderr);
  assert.match(partial.stdout, /1\. Factorize all layers at rank 4096: 0 layers changed, 7 skipped/);
  assert.match(partial.stdout, /wrote .*partial\.onnx/);
});

test('apply refuses to write over its input (same path, symlink, hard link) unless --in-place', () => {
  const { dir, model, recipe } = applyFixture({ transform: 'quantize' });
  const original = fs.readFileSync(model);
  fs.symlinkSync(model, path.join(dir, 'link.onnx'));
  fs.linkSync(model, path.join(dir, 'hard.onnx'));
  for (const output of [model, path.join(dir, '.', 'mlp.onnx'), path.join(dir, 'link.onnx'), path.join(dir, 'hard.onnx')]) {
    const r = run('apply', model, '--recipe', recipe, '--output', output);
    assert.equal(r.status, 2, output);
    assert.match(r.stderr, /^error: --output .* is the input model; pass --in-place to replace it\n/);
  }
  assert.ok(fs.readFileSync(model).equals(original));
  const both = run('apply', model, '--recipe', recipe, '--in-place', '--output', path.join(dir, 'other.onnx'));
  assert.equal(both.status, 2);
  assert.match(both.stderr, /--in-place writes to .*; give --output .* or --in-place, not both/);
});

test('apply --in-place replaces the model by renaming a complete new file over it; a no-op leaves it alone', () => {
  const { dir, model, recipe } = applyFixture({ transform: 'quantize' });
  const original = fs.readFileSync(model);
  const inode = fs.statSync(model).ino;
  // A descriptor open on the original still reads the old bytes: the file was replaced, not overwritten.
  const fd = fs.openSync(model, 'r');
  try {
    const r = run('apply', path.join(dir, 'mlp.onnx'), '--recipe', recipe, '--in-place');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /wrote .*mlp\.onnx/);
    const old = Buffer.alloc(original.length);
    fs.readSync(fd, old, 0, old.length, 0);
    assert.ok(old.equals(original), 'the old file was not written into');
  } finally {
    fs.closeSync(fd);
  }
  assert.notEqual(fs.statSync(model).ino, inode);
  assert.ok(fs.statSync(model).size < original.length);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['mlp.onnx', 'recipe.json'], 'no temp file left');

  // The same recipe again changes nothing: exit 3 and the file is untouched.
  const quantized = fs.readFileSync(model);
  const again = run('apply', model, '--recipe', recipe, '--in-place');
  assert.equal(again.status, 3);
  assert.ok(fs.readFileSync(model).equals(quantized));
});
