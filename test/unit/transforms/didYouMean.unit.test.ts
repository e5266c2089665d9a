/** Typos get the name that was meant: recipe fields, layer names (globs ignore case), CLI options and commands. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { closest, didYouMean, editDistance } from '../../../src/core/didYouMean';
import { parseRecipe, parseStep } from '../../../src/transforms/recipe';
import { ModelSession } from '../../../src/transforms/modelSession';
import { smallCnn } from '../../helpers/smallModels';
import { tempDir } from '../../helpers/paths';

test('edit distance counts inserts, deletes, replacements and swaps', () => {
  assert.equal(editDistance('quantize', 'quantize'), 0);
  assert.equal(editDistance('qunatize', 'quantize'), 1, 'a swap is one edit');
  assert.equal(editDistance('blocksize', 'blockSize'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});

test('closest keeps typo-distance names only, nearest first, ignoring case', () => {
  assert.deepEqual(closest('--jsno', ['--json', '--bins', '--report']), ['--json']);
  assert.deepEqual(closest('BLOCKSIZE', ['blockSize', 'bits']), ['blockSize']);
  assert.deepEqual(closest('conv3', ['conv1', 'conv2', 'fc1', 'conv33']), ['conv1', 'conv2', 'conv33']);
  assert.deepEqual(closest('zzzzzz', ['conv1', 'fc1']), []);
  assert.equal(didYouMean('zzzzzz', ['conv1']), '');
  assert.equal(didYouMean('conv3', ['conv1', 'conv2']), " (did you mean 'conv1' or 'conv2'?)");
});

test('an unknown recipe parameter or field names the one that was meant', () => {
  assert.throws(() => parseStep({ transform: 'quantize', blocksize: 64 }), /unknown parameter 'blocksize' \(did you mean 'blockSize'\?\)/);
  assert.throws(() => parseStep({ transform: 'cluster', keepzero: true, zzz: 1 }), /unknown parameters 'keepzero' \(did you mean 'keepZero'\?\), 'zzz'$/);
  assert.throws(() => parseRecipe({ version: 1, steps: [], descripton: 'x' }), /unknown field 'descripton' \(did you mean 'description'\?\)/);
});

function session(): ModelSession {
  const file = path.join(tempDir(), 'cnn.onnx');
  fs.writeFileSync(file, smallCnn());
  return ModelSession.open(file);
}

test('a layer name that matches nothing suggests the closest names; globs and names ignore case', async () => {
  const s = session();
  await assert.rejects(s.compute(parseStep({ transform: 'quantize', layers: ['conv3'] })), /no layer is named 'conv3' \(did you mean 'conv1' or 'conv2'\?\)/);
  await assert.rejects(s.compute(parseStep({ transform: 'quantize', layers: ['onv'] })), /no layer is named 'onv' \(names containing it: 'conv1', 'conv2'\)/);
  await assert.rejects(s.compute(parseStep({ transform: 'quantize', layers: ['nothing*'] })), /no layer is named 'nothing\*'$/);
  await assert.rejects(s.compute(parseStep({ transform: 'quantize', exclude: ['conv3'] })), /no layer is named 'conv3' \(in 'exclude'\) \(did you mean 'conv1' or 'conv2'\?\)/);
  const single = await s.compute(parseStep({ transform: 'quantize', layers: 'conv*', exclude: 'CONV2' }));
  assert.deepEqual(single.result.changed.map((c) => c.layer), ['conv1']);
  const byGlob = await s.compute(parseStep({ transform: 'quantize', layers: ['CONV*'] }));
  assert.deepEqual(byGlob.result.changed.map((c) => c.layer), ['conv1', 'conv2']);
  const byName = await s.compute(parseStep({ transform: 'quantize', layers: ['FC1'] }));
  assert.deepEqual(byName.result.changed.map((c) => c.layer), ['fc1']);
});
