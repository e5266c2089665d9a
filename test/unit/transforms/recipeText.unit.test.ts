/** Recipe files being edited: problems at their places, layer names checked against the model, and each step's prediction. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRecipeText } from '../../../src/transforms/recipeText';
import { parseRecipe } from '../../../src/transforms/recipe';
import { predictRecipe } from '../../../src/report/recipePrediction';
import { ModelSession } from '../../../src/transforms/modelSession';
import { attributeLayers } from '../../../src/analyzers/layers';
import { smallCnn } from '../../helpers/smallModels';
import { tempDir } from '../../helpers/paths';

function cnn(): string {
  const file = path.join(tempDir(), 'cnn.onnx');
  fs.writeFileSync(file, smallCnn());
  return file;
}
const layersOf = (file: string) => {
  const layers = attributeLayers(ModelSession.open(file).state.index).layers;
  return () => layers;
};
const at = (text: string, p: { offset: number; length: number }): string => text.slice(p.offset, p.offset + p.length);

test('a recipe file: its model, its steps and every layer name, with where each is', () => {
  const text = JSON.stringify({ version: 1, model: 'cnn.onnx', steps: [{ transform: 'quantize', layers: ['conv1', 'fc1'] }, { transform: 'prune', sparsity: 0.5, layers: '*', exclude: ['conv2'] }] }, null, 2);
  const read = readRecipeText(text, layersOf(cnn()));
  assert.deepEqual(read.problems, []);
  assert.equal(read.model?.path, 'cnn.onnx');
  assert.equal(at(text, read.model!), '"cnn.onnx"');
  assert.equal(read.steps.length, 2);
  assert.match(at(text, read.steps[1]), /^\{\s+"transform": "prune"/);
  assert.equal(read.steps[0].step?.transform, 'quantize');
  assert.deepEqual(read.layerEntries.map((e) => [e.step, e.field, e.name, at(text, e)]), [[0, 'layers', 'conv1', '"conv1"'], [0, 'layers', 'fc1', '"fc1"'], [1, 'exclude', 'conv2', '"conv2"']]);
  assert.equal(parseRecipe(JSON.parse(text)).model, 'cnn.onnx', 'the parser takes the model field');
});

test('problems sit where they are: JSON syntax, the parameter refused, a layer the model does not have with the names meant', () => {
  const broken = '{ "version": 1, "steps": [ { "transform": "quantize" ] }';
  const syntax = readRecipeText(broken);
  assert.ok(syntax.problems.length > 0);
  assert.match(syntax.problems[0].message, /^JSON: /);
  assert.ok(syntax.problems[0].offset >= broken.indexOf(']') - 1, 'at the bracket that does not belong');

  const text = JSON.stringify({ version: 1, model: 'cnn.onnx', steps: [{ transform: 'quantize', blocksize: 64 }, { transform: 'cluster', layers: ['conv3', 'CONV*', 'nothing*'] }] }, null, 2);
  const read = readRecipeText(text, layersOf(cnn()));
  const [param, typo, glob] = read.problems;
  assert.match(param.message, /unknown parameter 'blocksize' \(did you mean 'blockSize'\?\)/);
  assert.equal(at(text, param), '"blocksize": 64', 'the property the message names');
  assert.match(typo.message, /no layer named 'conv3' \(did you mean 'conv1' or 'conv2'\?\)/);
  assert.deepEqual(typo.suggestions, ['conv1', 'conv2']);
  assert.equal(at(text, typo), '"conv3"');
  assert.equal(at(text, glob), '"nothing*"', 'a glob matching nothing; CONV* (any case) matches');
  assert.deepEqual(glob.suggestions, []);
  assert.equal(read.problems.length, 3);
  assert.equal(readRecipeText(text).problems.length, 1, 'without the model only the parser speaks');
});

test('an unknown top-level field and a wrong version are reported at their property', () => {
  const text = JSON.stringify({ version: 2, steps: [] });
  assert.equal(at(text, readRecipeText(text).problems[0]), '"version":2');
  const typo = JSON.stringify({ version: 1, modle: 'x.onnx', steps: [] });
  const [p] = readRecipeText(typo).problems;
  assert.match(p.message, /unknown field 'modle' \(did you mean 'model'\?\)/);
  assert.equal(at(typo, p), '"modle":"x.onnx"');
});

test('a prediction runs the steps in order on the model in memory and leaves the file alone', async () => {
  const file = cnn();
  const before = fs.readFileSync(file);
  const recipe = parseRecipe({ version: 1, steps: [{ transform: 'quantize', layers: '*' }, { transform: 'quantize', layers: '*' }, { transform: 'prune', sparsity: 0.5, layers: ['zzz'] }, { transform: 'prune', sparsity: 0.5, layers: '*' }] });
  const [first, second, third, ...rest] = await predictRecipe(file, recipe.steps);
  assert.ok('edit' in first && first.edit.bytesAfter < first.edit.bytesBefore / 3, 'INT8 on FP32');
  assert.ok('edit' in first && first.edit.worstSqnrDb !== null && first.edit.worstSqnrDb > 30);
  assert.ok('unchanged' in second, 'the same INT8 again changes nothing: the second step sees the first');
  assert.ok('error' in third && /no layer is named 'zzz'/.test(third.error));
  assert.deepEqual(rest, [], 'steps after a failure are not run');
  assert.deepEqual(fs.readFileSync(file), before);
});
