/** The editor's document model without VS Code: apply, undo, redo, save, revert, and replaying a backup's steps. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelSession } from '../../../src/transforms/modelSession';
import { parseStep } from '../../../src/transforms/recipe';
import { encodeMessage } from '../../../src/core/protobuf/encode';
import { concatBytes } from '../../../src/core/bytes';
import { ModelSchema } from '../../../src/core/onnx/schema';
import { tempDir } from '../../helpers/paths';
import { smallCnn } from '../../helpers/smallModels';

const bytesOf = (s: ModelSession) => Buffer.from(concatBytes(encodeMessage(ModelSchema, s.state.proto).finish()));

test('apply, undo and redo move between exact states; save writes atomically and resets; revert reloads', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'cnn.onnx');
  const original = Buffer.from(smallCnn());
  fs.writeFileSync(file, original);
  const session = ModelSession.open(file);
  const changes: number[] = [];
  session.onDidChange((s) => changes.push(s.version));
  const quantize = await session.apply(parseStep({ transform: 'quantize', layers: ['conv*'] }));
  const prune = await session.apply(parseStep({ transform: 'prune', sparsity: 0.5, layers: ['fc1'] }));
  assert.equal(session.steps.length, 2);
  const afterBoth = bytesOf(session);
  prune.undo();
  quantize.undo();
  assert.ok(bytesOf(session).equals(original), 'undo restores the original bytes');
  assert.equal(session.steps.length, 0);
  quantize.redo();
  prune.redo();
  assert.ok(bytesOf(session).equals(afterBoth), 'redo restores the edited bytes');
  assert.deepEqual(changes, [1, 2, 3, 4, 5, 6]);

  // Replaying the steps (what a backup holds) on the file gives the same model.
  const restored = await ModelSession.restore(file, session.steps);
  assert.ok(bytesOf(restored).equals(afterBoth));

  await session.save();
  assert.ok(fs.readFileSync(file).equals(afterBoth));
  assert.ok(session.onDisk);
  assert.deepEqual(session.unsavedSteps, []);
  assert.deepEqual(fs.readdirSync(dir), ['cnn.onnx'], 'no temp files left');

  fs.writeFileSync(file, original);
  session.revert();
  assert.ok(bytesOf(session).equals(original));
});

test('a failing step leaves the session as it was', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'cnn.onnx');
  fs.writeFileSync(file, smallCnn());
  const session = ModelSession.open(file);
  await assert.rejects(session.apply(parseStep({ transform: 'quantize', layers: ['nope'] })), /no layer is named 'nope'/);
  assert.equal(session.version, 0);
  assert.equal(session.steps.length, 0);
});
