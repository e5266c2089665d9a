/** The document's saved-state bookkeeping: which revision is shown, which one the file holds, and the steps between. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EditHistory } from '../../../src/transforms/editHistory';
import { ModelSession } from '../../../src/transforms/modelSession';
import { parseStep, type RecipeStep } from '../../../src/transforms/recipe';
import { encodeMessage } from '../../../src/core/protobuf/encode';
import { concatBytes } from '../../../src/core/bytes';
import { ModelSchema } from '../../../src/core/onnx/schema';
import { tempDir } from '../../helpers/paths';
import { smallCnn } from '../../helpers/smallModels';

const quantize = parseStep({ transform: 'quantize', layers: '*' });
const prune = parseStep({ transform: 'prune', sparsity: 0.5, layers: ['fc1'] });

test('apply, save, undo: the model shown is not the file, and no steps from the file rebuild it', () => {
  const h = new EditHistory();
  assert.ok(h.onDisk);
  const opened = h.current;
  const a = h.child(quantize);
  h.moveTo(a);
  assert.ok(!h.onDisk);
  assert.deepEqual(h.unsavedSteps(), [quantize]);
  h.markSaved();
  assert.ok(h.onDisk);
  assert.deepEqual(h.unsavedSteps(), []);
  assert.equal(h.savedDepth(), 1);
  h.moveTo(opened); // undo past the save
  assert.equal(h.stepsFromStart().length, 0);
  assert.ok(!h.onDisk, 'no steps, yet not the file on disk');
  assert.equal(h.unsavedSteps(), undefined);
  assert.equal(h.savedDepth(), undefined);
  h.moveTo(a); // redo
  assert.ok(h.onDisk);
});

test('edits after a save are the unsaved steps; a new branch after undo past the save has none from the file', () => {
  const h = new EditHistory();
  const a = h.child(quantize);
  h.moveTo(a);
  h.markSaved();
  h.moveTo(h.child(prune));
  assert.deepEqual(h.stepsFromStart(), [quantize, prune]);
  assert.deepEqual(h.unsavedSteps(), [prune]);
  assert.equal(h.savedDepth(), 1);
  h.moveTo(a.parent!);
  h.moveTo(h.child(prune));
  assert.equal(h.unsavedSteps(), undefined);
  assert.deepEqual(h.stepsFromStart(), [prune]);
});

test('revert returns to the saved revision; a change on disk with edits kept leaves no saved revision; reload starts afresh', () => {
  const h = new EditHistory();
  h.moveTo(h.child(quantize));
  h.markSaved();
  const saved = h.current;
  h.moveTo(h.child(prune));
  assert.ok(h.revertToSaved());
  assert.equal(h.current, saved);
  h.forgetSaved();
  assert.ok(!h.onDisk);
  assert.equal(h.revertToSaved(), false);
  h.reload();
  assert.ok(h.onDisk);
  assert.deepEqual(h.stepsFromStart(), []);
  const restored = new EditHistory(false);
  assert.ok(!restored.onDisk, 'a model rebuilt from a copy is not the file');
});

const bytesOf = (s: ModelSession) => Buffer.from(concatBytes(encodeMessage(ModelSchema, s.state.proto).finish()));

test('a session after apply, save, undo shows the opened model, knows it is not on disk, and a base copy restores it', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'cnn.onnx');
  const original = Buffer.from(smallCnn());
  fs.writeFileSync(file, original);
  const session = ModelSession.open(file);
  const edit = await session.apply(quantize);
  await session.save();
  assert.ok(session.onDisk);
  edit.undo();
  assert.ok(bytesOf(session).equals(original));
  assert.ok(!session.onDisk, 'the file holds the quantized model');
  assert.equal(session.unsavedSteps, undefined);
  assert.equal(session.savedSteps, undefined);
  // What a backup writes when no steps rebuild the model from the file: a copy of it.
  const base = path.join(dir, 'base.onnx');
  fs.writeFileSync(base, bytesOf(session));
  const restored = await ModelSession.restore(file, [] as RecipeStep[], undefined, base);
  assert.ok(bytesOf(restored).equals(original));
  assert.ok(!restored.onDisk);
  assert.equal(restored.file, session.file);
  edit.redo();
  assert.ok(session.onDisk, 'redo returns to the saved model');
  session.revert();
  assert.ok(session.onDisk);
  assert.equal(session.savedSteps, 1);
});
