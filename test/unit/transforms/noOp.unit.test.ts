/**
 * A step that changes no layer is not an edit: the editor looks before it commits (compute, then
 * commit) and shows why instead; the words are the ones the CLI prints.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelSession } from '../../../src/transforms/modelSession';
import { parseStep } from '../../../src/transforms/recipe';
import { changedNothing, noOpNotice, nothingChangedLine, skipLines } from '../../../src/transforms/noOp';
import { tempDir } from '../../helpers/paths';
import { smallCnn } from '../../helpers/smallModels';

function session(): ModelSession {
  const file = path.join(tempDir(), 'cnn.onnx');
  fs.writeFileSync(file, smallCnn());
  return ModelSession.open(file);
}

test('a step that changes no layer gets a notice naming at most five layers and their reasons', async () => {
  const s = session();
  const edit = await s.compute(parseStep({ transform: 'factorize', rank: 4096 }));
  assert.equal(edit.result.changed.length, 0);
  assert.equal(edit.result.skipped.length, 6);
  const notice = noOpNotice(edit.label, edit.result);
  assert.ok(notice);
  assert.match(notice, /^Nothing changed: 0 of 6 layers could take "Factorize all layers at rank 4096"\. conv1 \(Conv\): /);
  assert.match(notice, /bn1 \(BatchNormalization\): BatchNormalization is not factorized/);
  assert.match(notice, /; and 1 more\.$/);
  assert.ok(changedNothing([edit.result]));
  assert.match(nothingChangedLine([edit.result], [edit.label]), /^nothing changed: 0 of 6 layers could take step 1 \(Factorize all layers at rank 4096\)$/);
  assert.deepEqual(skipLines(edit.result.skipped, 2).length, 3);
});

test('pruning that zeroes no weight changes nothing: sparsity 0, or no more than the layer already has', async () => {
  const s = session();
  const none = await s.compute(parseStep({ transform: 'prune', sparsity: 0 }));
  assert.equal(none.result.changed.length, 0);
  assert.ok(changedNothing([none.result]));
  assert.match(none.result.skipped.find((k) => k.layer === 'conv1')!.reason, /^'[^']+': sparsity 0 zeroes no weight that is not zero already \(0% are\)$/);
  const half = await s.compute(parseStep({ transform: 'prune', sparsity: 0.5 }));
  s.commit(half, parseStep({ transform: 'prune', sparsity: 0.5 }));
  const less = await s.compute(parseStep({ transform: 'prune', sparsity: 0.3 }));
  assert.ok(changedNothing([less.result]));
  assert.match(less.result.skipped.find((k) => k.layer === 'fc1')!.reason, /sparsity 0\.3 zeroes no weight that is not zero already \(50% are\)/);
  const more = await s.compute(parseStep({ transform: 'prune', sparsity: 0.7 }));
  assert.equal(more.result.changed.length, half.result.changed.length);
});

test('a step that changes a layer is an edit: no notice', async () => {
  const s = session();
  const edit = await s.compute(parseStep({ transform: 'quantize' }));
  assert.equal(noOpNotice(edit.label, edit.result), undefined);
  assert.equal(changedNothing([edit.result]), false);
});

test('compute leaves the session alone; commit makes the edit current and refuses a stale one', async () => {
  const s = session();
  const before = s.state;
  const step = parseStep({ transform: 'quantize' });
  const computed = await s.compute(step);
  assert.equal(s.state, before);
  assert.equal(s.version, 0);
  assert.equal(s.steps.length, 0);
  const edit = s.commit(computed, step);
  assert.equal(s.state, computed.after);
  assert.deepEqual(s.steps, [step]);
  assert.throws(() => s.commit(computed, step), /the model changed while the step was computed/);
  edit.undo();
  assert.equal(s.state, before);
});

test('layers of one op type skipped for the same reason share a line when there are more than three (in the order each reason first appears)', () => {
  const reason = 'GPTQ here reconstructs MatMul, Gemm and Conv layers, not Add';
  const adds = Array.from({ length: 96 }, (_, i) => ({ layer: `/blocks.${i}/Add`, opType: 'Add', reason }));
  const norms = Array.from({ length: 3 }, (_, i) => ({ layer: `/ln${i}`, opType: 'LayerNormalization', reason: 'not LayerNormalization' }));
  const lines = skipLines([norms[0], ...adds, norms[1], norms[2]]);
  assert.deepEqual(lines, [
    '/ln0 (LayerNormalization): not LayerNormalization',
    '/ln1 (LayerNormalization): not LayerNormalization',
    '/ln2 (LayerNormalization): not LayerNormalization',
    `96 Add layers (/blocks.0/Add, /blocks.1/Add, …): ${reason}`,
  ]);
  assert.deepEqual(skipLines([...adds, ...norms], 1), [`96 Add layers (/blocks.0/Add, /blocks.1/Add, …): ${reason}`, 'and 3 more']);
});
