/**
 * Task-aware metrics against numpy (make_task_fixture.py → tasks_expected.json): one model with an
 * output per task (CTC sequence, mask, dense map, segmentation, score, embedding) and a perturbed
 * candidate, evaluated in onnxruntime; each output's task, its agreement figure, SQNR, errors and
 * worst samples equal numpy's, and every interval holds its figure.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { chooseTask, type Task } from '../../../src/eval/taskChoice';
import { TaskComparison, ctcGreedy, editDistance } from '../../../src/eval/taskMetrics';
import { readJson, repoRoot } from '../../helpers/paths';

const fixtures = path.join(repoRoot, 'test/fixtures');
interface Expected {
  task: string;
  agreement: number;
  sqnr: number;
  meanAbsError: number;
  maxAbsError: number;
  worstSampleMeanAbsError: number;
  worstSampleSqnr: number;
  editPerCharacter?: number;
  stepAgreement?: number;
  worstSampleEditPerCharacter?: number;
  pixelAgreement?: number;
  worstSampleIou?: number;
  worstSampleAgreement?: number;
}
const expected = readJson<{ samples: number; outputs: Record<string, Expected> }>(path.join(fixtures, 'tasks_expected.json'));

const runner = new OrtProcess();
test.after(() => runner.dispose());

/** The task fixture's candidate against its baseline on its data. */
const evaluateTasks = (extra: { batchSize: number; limit?: number; outputTasks?: Record<string, Task> }) =>
  runner.run({
    kind: 'evaluate',
    candidate: path.join(fixtures, 'tasks_candidate.onnx'),
    baseline: path.join(fixtures, 'tasks.onnx'),
    dataset: { kind: 'numpy', path: path.join(fixtures, 'tasks_data.npz') },
    threads: 1,
    optimization: 'all',
    ...extra,
  });

const close = (a: number | undefined, b: number, tolerance: number, what: string) => assert.ok(a !== undefined && Math.abs(a - b) <= tolerance, `${what}: ${a} vs ${b}`);

test('each output gets the metrics of its task, equal to numpy', async () => {
  const { result } = await evaluateTasks({ batchSize: 7 });
  assert.equal(result.samples, expected.samples);
  const tasks = result.tasks!;
  assert.deepEqual(tasks.map((t) => t.name).sort(), Object.keys(expected.outputs).sort());
  for (const t of tasks) {
    const e = expected.outputs[t.name];
    const figure = (name: string) => t.figures.find((f) => f.name === name)?.value;
    assert.equal(t.task, e.task, `${t.name}: ${t.why}`);
    assert.ok(t.why.length > 10, 'the report says why');
    close(t.agreement.value, e.agreement, 1e-6, `${t.name} ${t.agreement.name}`);
    close(t.sqnr.value, e.sqnr, 1e-3, `${t.name} SQNR`);
    close(figure('mean |err|'), e.meanAbsError, 1e-6, `${t.name} mean error`);
    close(figure('max |err|'), e.maxAbsError, 1e-5, `${t.name} max error`);
    for (const f of [t.agreement, t.sqnr]) {
      assert.ok(f.ci95 && f.ci95[0] <= f.value + 1e-12 && f.value <= f.ci95[1] + 1e-12, `${t.name} ${f.name} interval [${f.ci95}] holds ${f.value}`);
    }
    if (e.editPerCharacter !== undefined) close(figure('edit distance per character'), e.editPerCharacter, 1e-12, 'edit distance');
    if (e.stepAgreement !== undefined) close(figure('per-step agreement'), e.stepAgreement, 1e-12, 'step agreement');
    if (e.worstSampleEditPerCharacter !== undefined) close(figure("worst sample's edit distance per character"), e.worstSampleEditPerCharacter, 1e-12, 'worst edit distance');
    if (e.pixelAgreement !== undefined) close(figure('pixel agreement at 0.5'), e.pixelAgreement, 1e-12, 'pixel agreement');
    if (e.worstSampleIou !== undefined) close(figure("worst sample's IoU at 0.5"), e.worstSampleIou, 1e-12, 'worst IoU');
    if (e.worstSampleAgreement !== undefined) close(figure("worst sample's per-pixel class agreement"), e.worstSampleAgreement, 1e-12, 'worst agreement');
    if (t.task === 'mask' || t.task === 'dense') close(figure("worst sample's mean |err|"), e.worstSampleMeanAbsError, 1e-6, `${t.name} worst error`);
    if (t.task === 'dense' || t.task === 'embedding') close(figure("worst sample's SQNR"), e.worstSampleSqnr, 1e-3, `${t.name} worst SQNR`);
  }
  // The headline agreement is the first output's task figure, not a top-1 over a sequence's steps.
  close(result.agreement, expected.outputs[tasks[0].name].agreement, 1e-6, 'headline agreement');
});

test('--task overrides the choice per output or for all', async () => {
  const { result } = await evaluateTasks({ limit: 6, batchSize: 3, outputTasks: { '*': 'embedding', mask: 'dense' } });
  assert.equal(result.samples, 6);
  for (const t of result.tasks!) assert.equal(t.task, t.name === 'mask' ? 'dense' : 'embedding', t.name);
});

test('the choice follows shapes and values', () => {
  const soft = new Float32Array([0.2, 0.8, 0.5, 0.5]);
  assert.equal(chooseTask('p', [1, 2, 2], 1, soft).task, 'sequence');
  assert.equal(chooseTask('p', [1, 1, 2, 2], 1, new Float32Array([0.1, 0.9, 0.7, 0.2])).task, 'mask');
  assert.equal(chooseTask('p', [1, 1, 2, 2], 1, new Float32Array([-3, 0.9, 7, 0.2])).task, 'dense');
  assert.equal(chooseTask('p', [1, 4, 2, 2], 1, new Float32Array(16)).task, 'segmentation');
  assert.equal(chooseTask('logits', [2, 10], 2, new Float32Array(20)).task, 'classification');
  assert.equal(chooseTask('pooled_embedding', [2, 10], 2, new Float32Array(20)).task, 'embedding');
  assert.equal(chooseTask('p', [1, 1], 1, new Float32Array([0.3])).task, 'score');
  assert.equal(chooseTask('y', [1, 1], 1, new Float32Array([3])).task, 'embedding');
  assert.equal(chooseTask('stateN', [2, 1, 128], 1, new Float32Array(256)).task, 'embedding', 'batch not first');
});

test('CTC greedy decoding and edit distance', () => {
  // steps: 1 1 0 1 2 2 0 → 1 1 2
  const steps = Float32Array.from([1, 1, 0, 1, 2, 2, 0].flatMap((c) => [0, 1, 2].map((k) => (k === c ? 1 : 0))));
  assert.deepEqual(ctcGreedy(steps, 3), [1, 1, 2]);
  assert.equal(editDistance([1, 2, 3], [1, 3]), 1);
  assert.equal(editDistance([], [4, 5]), 2);
  assert.equal(editDistance([1, 2, 3, 4], [2, 1, 3, 5]), 3);
});

test('a mask missed entirely is IoU 0 and the worst image', () => {
  const c = new TaskComparison();
  const dims = [2, 1, 2, 2];
  const base = new Float32Array([0.1, 0.2, 0.1, 0.3, 0.9, 0.8, 0.1, 0.1]);
  c.add([{ name: 'm', dims, data: base }], [{ name: 'm', dims, data: new Float32Array([0.2, 0.1, 0.1, 0.1, 0.4, 0.3, 0.1, 0.1]) }], 2);
  const [missed] = c.result();
  assert.equal(missed.task, 'mask');
  assert.equal(missed.agreement.value, 0);
  assert.equal(missed.figures.find((f) => f.name === "worst sample's IoU at 0.5")!.value, 0);
});
