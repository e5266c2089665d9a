/**
 * `sensitivity` through the CLI: --transform takes a step file as its usage line says, a plan
 * that takes no layer is said and exits 3 with no plan file (as apply does), and `--task OUTPUT=lm`
 * says lm is for the whole model.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parseTask } from '../../../src/cli/taskOption';
import { repoRoot, tempDir } from '../../helpers/paths';
import { smallCnn } from '../../helpers/smallModels';

const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'dist/cli.js'), ...args], { encoding: 'utf8' });

function cnn(): { dir: string; model: string } {
  const dir = tempDir();
  const model = path.join(dir, 'cnn.onnx');
  fs.writeFileSync(model, smallCnn());
  return { dir, model };
}

test('--transform STEP.json: a file of one step, or a recipe of one step; anything else is a usage error', () => {
  const { dir, model } = cnn();
  const step = { transform: 'cluster', clusters: 4 };
  const stepFile = path.join(dir, 'step.json');
  fs.writeFileSync(stepFile, JSON.stringify(step));
  const r = cli('sensitivity', model, '--transform', stepFile, '--samples', '4', '--target-ratio', '0.6', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).step.clusters, 4);
  const recipe = path.join(dir, 'recipe.json');
  fs.writeFileSync(recipe, JSON.stringify({ version: 1, steps: [step] }));
  assert.equal(cli('sensitivity', model, '--transform', recipe, '--samples', '4', '--target-ratio', '0.6').status, 0);
  fs.writeFileSync(recipe, JSON.stringify({ version: 1, steps: [step, step] }));
  const two = cli('sensitivity', model, '--transform', recipe, '--samples', '4');
  assert.equal(two.status, 2);
  assert.match(two.stderr, /holds 2 steps: sensitivity takes one/);
  const missing = cli('sensitivity', model, '--transform', path.join(dir, 'nope.json'));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--transform needs a recipe step as JSON .* or a file of one: '.*nope\.json' is neither/);
});

test('a plan of no layer is said, writes no plan file and exits 3 (a target met already, a budget nothing meets)', () => {
  const { dir, model } = cnn();
  const plan = path.join(dir, 'plan.json');
  const step = '{"transform": "quantize", "dtype": "int4", "granularity": "per-channel"}';
  const met = cli('sensitivity', model, '--transform', step, '--samples', '4', '--target-bytes', '1000000000', '--plan', plan);
  assert.equal(met.status, 3, met.stderr);
  assert.match(met.stdout.split('\n')[0], /^nothing planned: the weights \(.*\) already meet the target of .*; .*plan\.json not written$/);
  assert.equal(fs.existsSync(plan), false);
  const budget = cli('sensitivity', model, '--transform', step, '--samples', '4', '--min-sqnr', '500', '--plan', plan, '--json');
  assert.equal(budget.status, 3, budget.stderr);
  const j = JSON.parse(budget.stdout);
  assert.match(j.nothingPlanned, /^nothing planned: none of the 4 layers that can take this step fits the budget/);
  assert.deepEqual(j.plan.layers, []);
  assert.equal(fs.existsSync(plan), false);
  const text = cli('sensitivity', model, '--transform', step, '--samples', '4', '--min-sqnr', '500');
  assert.equal(text.status, 3);
  // The budget misses either way: what is new is no verdict line at all, the 'nothing planned' first.
  assert.doesNotMatch(text.stdout, /^(PASS|FAIL): plan of/m);
  assert.match(text.stdout.split('\n')[0], /^nothing planned: none of the 4 layers/);
});

test('--task lm is for the whole model: OUTPUT=lm says so', () => {
  assert.deepEqual(parseTask('lm'), { lm: true });
  assert.match(parseTask('foo=lm') as string, /^--task lm is for the whole model, not one output: give --task lm/);
  assert.match(parseTask('foo=detection') as string, /--task detection is not a task/);
});
