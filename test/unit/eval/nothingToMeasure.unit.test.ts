/**
 * When the baseline finds nothing (empty masks, sequences that decode to blanks only), agreeing
 * with it measures nothing: the figure says so instead of a perfect score, and no budget passes on it.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { TaskComparison } from '../../../src/eval/taskMetrics';
import { judge } from '../../../src/eval/budgets';
import { tasksText } from '../../../src/report/taskText';
import type { EvaluationResult } from '../../../src/eval/protocol';

const dims = [2, 1, 2, 2];
const mask = (values: number[]) => [{ name: 'm', dims, data: Float32Array.from(values) }];

/** One-hot CTC steps [samples, steps, classes] from class indices. */
const ctc = (samples: number[][], classes = 3) => [
  { name: 's', dims: [samples.length, samples[0].length, classes], data: Float32Array.from(samples.flat().flatMap((c) => Array.from({ length: classes }, (_, k) => (k === c ? 1 : 0)))) },
];

const evaluation = (tasks: EvaluationResult['tasks']): EvaluationResult => ({
  samples: 2, description: 'test', synthetic: true, batchSize: 2,
  candidate: { latencyMs: { median: 1, p90: 1 }, samplesPerSecond: 1 }, baseline: { latencyMs: { median: 1, p90: 1 }, samplesPerSecond: 1 }, tasks,
});

test("empty baseline masks: IoU is unmeasured (NaN, with the reason), not 100%", () => {
  const c = new TaskComparison();
  c.add(mask([0.2, 0.1, 0.1, 0.3, 0.1, 0.2, 0.1, 0.1]), mask([0.1, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1]), 2);
  const [m] = c.result();
  assert.equal(m.task, 'mask');
  assert.ok(Number.isNaN(m.agreement.value));
  assert.match(m.agreement.unmeasured ?? '', /baseline's masks are empty on these inputs: no overlap to measure/);
  assert.match(tasksText([m])[1], /^ {2}IoU at 0\.5: the baseline's masks are empty on these inputs: no overlap to measure, output SQNR/);
  assert.ok(!m.figures.some((f) => f.name.startsWith("worst sample's IoU")), 'no worst sample of nothing');
  // The pixel agreement still measures something: the candidate also found nothing.
  assert.equal(m.figures.find((f) => f.name.startsWith('pixel agreement'))!.value, 1);
});

test('a candidate that finds pixels where the baseline found none is named in the reason', () => {
  const c = new TaskComparison();
  c.add(mask([0.2, 0.1, 0.1, 0.3, 0.1, 0.2, 0.1, 0.1]), mask([0.9, 0.1, 0.1, 0.2, 0.1, 0.1, 0.7, 0.1]), 2);
  assert.match(c.result()[0].agreement.unmeasured ?? '', /candidate's have 2 pixels above 0\.5/);
});

test('a baseline with one non-empty mask is measured as before', () => {
  const c = new TaskComparison();
  c.add(mask([0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]), mask([0.9, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]), 2);
  assert.equal(c.result()[0].agreement.value, 1);
  assert.equal(c.result()[0].agreement.unmeasured, undefined);
});

test('all-blank CTC sequences: decoded agreement and edit distance are unmeasured', () => {
  const c = new TaskComparison();
  const blanks = ctc([[0, 0, 0, 0], [0, 0, 0, 0]]);
  c.add(blanks, blanks, 2);
  const [s] = c.result();
  assert.equal(s.task, 'sequence');
  assert.ok(Number.isNaN(s.agreement.value));
  assert.match(s.agreement.unmeasured ?? '', /sequences all decode to blanks/);
  assert.ok(s.figures.find((f) => f.name === 'edit distance per character')!.unmeasured);
  assert.equal(s.figures.find((f) => f.name === 'per-step agreement')!.value, 1);
  const text = new TaskComparison();
  text.add(ctc([[1, 0, 2, 0], [0, 0, 0, 0]]), ctc([[1, 0, 2, 0], [0, 0, 0, 0]]), 2);
  assert.equal(text.result()[0].agreement.value, 1);
});

test('no budget passes on a figure with nothing to measure: NO VERDICT, not PASS', () => {
  const c = new TaskComparison();
  c.add(mask([0.2, 0.1, 0.1, 0.3, 0.1, 0.2, 0.1, 0.1]), mask([0.1, 0.1, 0.1, 0.2, 0.1, 0.1, 0.1, 0.1]), 2);
  const v = judge(evaluation(c.result()), [{ kind: 'min-agreement', limit: 0.9 }]);
  assert.equal(v.pass, false);
  assert.match(v.line, /^NO VERDICT: 1 of 1 budget checks cannot be judged.*m IoU at 0\.5 cannot be judged: the baseline's masks are empty/);
  // Beside a measured miss it is a FAIL counting the misses only.
  const both = judge(evaluation(c.result()), [{ kind: 'min-agreement', limit: 0.9 }, { kind: 'min-sqnr', limit: 1000 }]);
  assert.match(both.line, /^FAIL: 1 of 2 budget checks missed/);
});
