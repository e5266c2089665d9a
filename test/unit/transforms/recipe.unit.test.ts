/**
 * Recipes: the parser and the published JSON Schema agree on what is a recipe; errors name the
 * step and the field; the CLI applies a recipe and reports every step.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import Ajv from 'ajv';
import { parseRecipe, parseStep, stepToJson, parseOwnStep } from '../../../src/transforms/recipe';
import { OnnxError } from '../../../src/core/errors';
import { repoRoot, tempDir, thirdPartyModels } from '../../helpers/paths';
import { smallCnn } from '../../helpers/smallModels';

const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas/recipe.schema.json'), 'utf8'));
const validate = new Ajv({ allErrors: true }).compile(schema);

const recipe = (...steps: unknown[]) => ({ version: 1, steps });

const VALID = [
  recipe({ transform: 'quantize' }),
  recipe({ transform: 'quantize', layers: ['conv*', 'fc1'], exclude: ['conv1'], dtype: 'uint8', symmetric: false, granularity: 'per-tensor' }),
  recipe({ transform: 'quantize', bits: 4, granularity: 'block', blockSize: 64 }),
  recipe({ transform: 'quantize', bits: 16 }),
  recipe({ transform: 'quantize', dtype: 'int4', method: 'gptq', damp: 0.05, actOrder: true, format: 'matmulnbits', calibration: { data: 'calib.npz', samples: 32 } }),
  recipe({ transform: 'quantize', mode: 'static', calibration: { method: 'entropy', data: 'cal.npz', samples: 32, reduceRange: false, shapes: { x: [1, 3, 48, 192] } } }),
  recipe({ transform: 'quantize', mode: 'static', granularity: 'per-tensor' }),
  recipe({ transform: 'prune', sparsity: 0.5, scope: 'global' }),
  recipe({ transform: 'prune', pattern: '2:4' }),
  recipe({ transform: 'prune', pattern: 'channel', sparsity: 0.25, norm: 'l2' }),
  recipe({ transform: 'cluster', clusters: 256, init: 'optimal', keepZero: true }),
  recipe({ transform: 'cluster', clusters: 8, seed: 7 }),
  recipe({ transform: 'quantize', layers: 'conv1', exclude: 'conv2' }),
  recipe({ transform: 'quantize', mode: 'static', calibration: { method: 'percentile', percentile: 99.9 } }),
  recipe({ transform: 'quantize', bits: 4, format: 'matmulnbits', blockSize: 16 }),
  recipe({ transform: 'prune', pattern: '2:4', sparsity: 0.5 }),
  recipe({ transform: 'factorize', rank: 8 }),
  recipe({ transform: 'factorize', energy: 0.95, layers: '*' }),
  ...['default.json', 'mobile-small.json'].map((f) => JSON.parse(fs.readFileSync(path.join(repoRoot, 'recipes', f), 'utf8'))),
];

/** Invalid recipes, the message the parser gives, and whether the schema can tell too. */
const INVALID: [unknown, RegExp, boolean][] = [
  [{ version: 2, steps: [] }, /'version' must be 1/, true],
  [{ version: 1 }, /'steps' must be a list/, true],
  [recipe({ transform: 'shrink' }), /recipe step 1: 'transform' must be/, true],
  [recipe({ transform: 'quantize', dtyp: 'int8' }), /recipe step 1: unknown parameter 'dtyp'/, true],
  [recipe({ transform: 'quantize', dtype: 'int3' }), /'dtype' must be one of/, true],
  [recipe({ transform: 'quantize', granularity: 'block', blockSize: 48 }), /'blockSize' must be a power of two/, false],
  [recipe({ transform: 'quantize', bits: 4, dtype: 'int8' }), /'bits' 4 contradicts 'dtype' "int8"/, false],
  [recipe({ transform: 'prune' }), /'sparsity' is required/, false],
  [recipe({ transform: 'prune', sparsity: 1.5 }), /'sparsity' must be a number from 0 to 0.99/, true],
  [recipe({ transform: 'prune', pattern: '4:2' }), /'pattern' must be/, false],
  [recipe({ transform: 'prune', pattern: '2:4', sparsity: 0.3 }), /contradicts pattern/, false],
  [recipe({ transform: 'prune', pattern: 'channel', sparsity: 0.3, scope: 'global' }), /global/, false],
  [recipe({ transform: 'cluster', clusters: 300 }), /'clusters' must be an integer from 2 to 256/, true],
  [recipe({ transform: 'factorize' }), /give 'rank' or 'energy'/, true],
  [recipe({ transform: 'factorize', rank: 4, energy: 0.9 }), /not both/, true],
  [recipe({ transform: 'quantize', layers: '' }), /'layers' must be a layer name or a list of layer names/, true],
  [recipe({ transform: 'quantize', exclude: [3] }), /'exclude' must be a layer name or a list of layer names/, true],
  // A parameter the step's other values make meaningless is an error, whatever its value.
  [recipe({ transform: 'quantize', blockSize: 64 }), /'blockSize' applies to 'granularity' "block" only/, false],
  [recipe({ transform: 'quantize', granularity: 'per-channel', blockSize: 32 }), /'blockSize' applies to 'granularity' "block" only/, false],
  [recipe({ transform: 'quantize', dtype: 'float16', symmetric: false }), /'symmetric' applies to integer types .* only/, false],
  [recipe({ transform: 'quantize', dtype: 'float16', granularity: 'block' }), /'granularity' applies to integer types .* only/, false],
  [recipe({ transform: 'quantize', bits: 16, granularity: 'per-channel' }), /'granularity' applies to integer types/, false],
  [recipe({ transform: 'quantize', accuracyLevel: 4 }), /'accuracyLevel' applies to 'format' "matmulnbits" only/, false],
  [recipe({ transform: 'quantize', actOrder: false }), /'actOrder' applies to 'method' "gptq" only/, false],
  [recipe({ transform: 'quantize', mode: 'static', format: 'qdq' }), /'format' applies to 'granularity' "block" in weight-only quantization only/, false],
  [recipe({ transform: 'quantize', dtype: 'int4', method: 'gptq', calibration: { method: 'entropy' } }), /calibration: 'method' applies to 'mode' "static" only/, false],
  [recipe({ transform: 'quantize', dtype: 'int4', method: 'gptq', calibration: { reduceRange: true } }), /calibration: 'reduceRange' applies to 'mode' "static" only/, false],
  [recipe({ transform: 'quantize', mode: 'static', calibration: { percentile: 99 } }), /'percentile' applies to 'method' "percentile" in static mode only/, false],
  [recipe({ transform: 'prune', sparsity: 0.5, norm: 'l1' }), /'norm' applies to 'pattern' "channel" only/, false],
  [recipe({ transform: 'prune', pattern: '2:4', scope: 'layer' }), /'scope' applies to 'pattern' "unstructured" only/, false],
  [recipe({ transform: 'cluster', init: 'optimal', seed: 3 }), /'seed' applies to 'init' "kmeans\+\+" only/, false],
  [recipe({ transform: 'quantize', bits: 4, format: 'matmulnbits', blockSize: 8 }), /'format' "matmulnbits" needs 'blockSize' 16 or more, not 8/, false],
  [recipe({ transform: 'quantize', calibration: { method: 'minmax' } }), /'calibration' applies to 'mode' "static" and 'method' "gptq" only/, false],
  [recipe({ transform: 'quantize', damp: 0.1 }), /'damp' applies to 'method' "gptq" only/, false],
  [recipe({ transform: 'quantize', method: 'gptq', dtype: 'float16' }), /'method' "gptq" applies to weight-only integer quantization/, false],
  [recipe({ transform: 'quantize', mode: 'static', dtype: 'int4' }), /'mode' "static" quantizes weights to symmetric int8/, false],
  [recipe({ transform: 'quantize', mode: 'static', calibration: { method: 'kl' } }), /'method' must be one of/, true],
  [recipe({ transform: 'quantize', mode: 'static', calibration: { sample: 3 } }), /calibration: unknown parameter 'sample'/, true],
];

test('every recipe the parser accepts, the schema accepts', () => {
  for (const r of VALID) {
    assert.doesNotThrow(() => parseRecipe(r), JSON.stringify(r));
    assert.ok(validate(r), `${JSON.stringify(r)}: ${JSON.stringify(validate.errors)}`);
  }
});

test('invalid recipes are refused with a message naming the step and field; the schema refuses what it can express', () => {
  for (const [r, message, schemaRejects] of INVALID) {
    assert.throws(() => parseRecipe(r), (e: unknown) => e instanceof OnnxError && e.code === 'recipe' && message.test(e.message), JSON.stringify(r));
    if (schemaRejects) assert.equal(validate(r), false, `schema accepted ${JSON.stringify(r)}`);
  }
});

test('a step written back as JSON reads back to the same step, defaults spelled out', () => {
  for (const r of VALID) {
    for (const s of parseRecipe(r).steps) {
      const json = stepToJson(s);
      assert.deepEqual(parseStep(json), s);
      assert.ok(validate({ version: 1, steps: [json] }), JSON.stringify(json));
    }
  }
});

const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'dist/cli.js'), ...args], { encoding: 'utf8' });

test('cli apply writes the model and reports each step as JSON; bad recipes and unknown layers exit 2', () => {
  const dir = tempDir();
  const model = path.join(dir, 'cnn.onnx');
  fs.writeFileSync(model, smallCnn());
  const recipeFile = path.join(dir, 'r.json');
  fs.writeFileSync(recipeFile, JSON.stringify(recipe({ transform: 'prune', sparsity: 0.5 }, { transform: 'quantize', layers: ['conv*'] })));
  const out = path.join(dir, 'out.onnx');
  const r = cli('apply', model, '--recipe', recipeFile, '--output', out, '--json');
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.equal(report.steps.length, 2);
  assert.deepEqual(report.steps[1].changed.map((c: { layer: string }) => c.layer), ['conv1', 'conv2']);
  assert.equal(report.steps[1].step.granularity, 'per-channel');
  assert.equal(report.fileBytesAfter, fs.statSync(out).size);
  assert.ok(report.fileBytesAfter < report.fileBytesBefore);

  const text = cli('apply', model, '--recipe', recipeFile, '--output', out);
  assert.match(text.stdout, /1\. Prune all layers 50% unstructured: 4 layers changed, 2 skipped/);
  assert.match(text.stdout, /wrote .*out\.onnx/);

  fs.writeFileSync(recipeFile, JSON.stringify(recipe({ transform: 'quantize', layers: ['nope'] })));
  const missing = cli('apply', model, '--recipe', recipeFile, '--output', out);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /no layer is named 'nope'/);
  fs.writeFileSync(recipeFile, '{"version": 1, "steps": [');
  const broken = cli('apply', model, '--recipe', recipeFile, '--output', out);
  assert.equal(broken.status, 2);
  assert.match(broken.stderr, /is not valid JSON/);
  assert.equal(cli('apply', model, '--recipe', recipeFile).status, 2);
});

test('cli apply runs the bundled default recipe on a real model', () => {
  const out = path.join(tempDir(), 'rec.onnx');
  const r = cli('apply', path.join(thirdPartyModels, 'ch_PP-OCRv4_rec_infer.onnx'), '--recipe', path.join(repoRoot, 'recipes/default.json'), '--output', out, '--json');
  assert.equal(r.status, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.ok(report.fileBytesAfter < report.fileBytesBefore / 3);
});

test('a step we wrote ourselves (a backup) drops parameters that do not apply; the user\'s own steps are refused for them', () => {
  const old = { transform: 'prune', sparsity: 0.5, norm: 'l1', layers: '*' };
  assert.throws(() => parseStep(old), /'norm' applies to/);
  assert.deepEqual(parseOwnStep(old), parseStep({ transform: 'prune', sparsity: 0.5, layers: '*' }));
  assert.deepEqual(old.norm, 'l1', 'the caller\'s object is left as it was');
  assert.throws(() => parseOwnStep({ transform: 'prune', sparsity: 2, norm: 'l1' }), /'sparsity' must be/);
  // Inside the calibration object too, and a GPTQ step stays GPTQ.
  const calibration = { data: 'calib.npz', samples: 8 };
  const staticOld = { transform: 'quantize', mode: 'static', calibration: { ...calibration, method: 'minmax', percentile: 99.99, reduceRange: false } };
  assert.throws(() => parseStep(staticOld), /'percentile' applies to/);
  assert.deepEqual(parseOwnStep(staticOld), parseStep({ transform: 'quantize', mode: 'static', calibration: { ...calibration, method: 'minmax', reduceRange: false } }));
  const gptqOld = { transform: 'quantize', dtype: 'int4', granularity: 'block', method: 'gptq', calibration: { ...calibration, method: 'minmax' } };
  assert.throws(() => parseStep(gptqOld), /'method' applies to/);
  const gptq = parseOwnStep(gptqOld) as { method: string };
  assert.equal(gptq.method, 'gptq');
});
