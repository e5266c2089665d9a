/**
 * Budgets and verdicts: `eval --min-sqnr/--min-agreement/--max-drop` through the CLI on the task
 * fixture (numpy's figures in tasks_expected.json) and the labelled classifier: the verdict line
 * comes first in text and JSON, PASS exits 0 and FAIL exits 1, per-output budgets judge only
 * their output, and budgets that cannot apply are usage errors.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseBudget } from '../../../src/eval/budgets';
import { readJson, repoRoot } from '../../helpers/paths';

const cli = path.join(repoRoot, 'dist/cli.js');
const fixtures = path.join(repoRoot, 'test/fixtures');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
const expected = readJson<{ outputs: Record<string, { sqnr: number; agreement: number }> }>(path.join(fixtures, 'tasks_expected.json')).outputs;
const tasks = ['eval', path.join(fixtures, 'tasks_candidate.onnx'), '--baseline', path.join(fixtures, 'tasks.onnx'), '--data', path.join(fixtures, 'tasks_data.npz')];

test('budget values parse in the units people write', () => {
  assert.deepEqual(parseBudget('max-drop', '1pt'), { kind: 'max-drop', limit: 0.01 });
  assert.deepEqual(parseBudget('max-drop', '0.5%'), { kind: 'max-drop', limit: 0.005 });
  assert.deepEqual(parseBudget('min-agreement', '99%'), { kind: 'min-agreement', limit: 0.99 });
  assert.deepEqual(parseBudget('min-agreement', 'mask=0.9'), { kind: 'min-agreement', limit: 0.9, output: 'mask' });
  assert.deepEqual(parseBudget('min-sqnr', '30dB'), { kind: 'min-sqnr', limit: 30 });
  assert.match(parseBudget('min-agreement', '1.5') as string, /at most 1/);
  assert.match(parseBudget('min-sqnr', 'lots') as string, /needs a number/);
});

test('per-output budgets: PASS when each output meets its own, exit 0, verdict first', () => {
  const mask = expected.mask.agreement;
  const r = run(...tasks, '--min-agreement', `mask=${(mask - 0.03).toFixed(4)}`, '--min-sqnr', `dense=${Math.floor(expected.dense.sqnr)}`);
  assert.equal(r.status, 0, r.stderr);
  const first = r.stdout.split('\n')[0];
  assert.match(first, /^PASS: 2 budget checks met: mask IoU at 0\.5 94\.07% \(95% CI .*\) meets ≥ 91\.\d+%; dense output SQNR 23\.3 dB/);
});

test('a missed budget is a FAIL: exit 1, the verdict first in JSON with the figure and its interval', () => {
  const limit = Math.ceil(expected.sequence.sqnr);
  const r = run(...tasks, '--min-sqnr', String(limit), '--json');
  assert.equal(r.status, 1, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(Object.keys(out)[0], 'verdict');
  assert.equal(out.verdict.pass, false);
  assert.equal(out.verdict.checks.length, Object.keys(expected).length, 'one check per output');
  for (const c of out.verdict.checks) {
    assert.ok(Math.abs(c.value - expected[c.output].sqnr) < 1e-3, c.output);
    assert.equal(c.pass, expected[c.output].sqnr >= limit, c.output);
    assert.ok(c.ci95[0] <= c.value && c.value <= c.ci95[1]);
  }
  assert.match(out.verdict.line, /^FAIL: \d of 6 budget checks missed: .*sequence output SQNR 17\.3 dB/);
});

test('--max-drop judges accuracy when there are labels', () => {
  const c = path.join(fixtures, 'classifier_candidate.onnx');
  const base = ['eval', c, '--baseline', path.join(fixtures, 'classifier.onnx'), '--data', path.join(fixtures, 'classifier_data.npz')];
  const fail = run(...base, '--max-drop', '1pt');
  assert.equal(fail.status, 1, fail.stderr);
  assert.match(fail.stdout.split('\n')[0], /^FAIL: 1 of 1 budget checks missed: accuracy top-1 accuracy change -\d+\.\d+ pt .* misses drop ≤ 1\.00 pt/);
  const pass = run(...base, '--max-drop', '50pt');
  assert.equal(pass.status, 0, pass.stderr);
  assert.match(pass.stdout.split('\n')[0], /^PASS/);
});

test('budgets that cannot apply are errors naming what exists', () => {
  const noBaseline = run('eval', path.join(fixtures, 'tasks.onnx'), '--data', path.join(fixtures, 'tasks_data.npz'), '--min-sqnr', '30');
  assert.equal(noBaseline.status, 2);
  assert.match(noBaseline.stderr, /--min-sqnr judges the model against a baseline: give --baseline/);
  const wrongOutput = run(...tasks, '--min-sqnr', 'logits=30');
  assert.equal(wrongOutput.status, 2);
  assert.match(wrongOutput.stderr, /no output 'logits' \(its outputs: sequence, mask, dense, segmentation, score, embedding\)/);
  const badTask = run(...tasks, '--task', 'detection');
  assert.equal(badTask.status, 2);
  assert.match(badTask.stderr, /--task detection is not a task: give one of lm, classification/);
});
