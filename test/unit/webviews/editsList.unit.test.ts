/** The editor's list of edits: kept after a save, marked saved; undo past a save says the file holds something else. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { editsList } from '../../../src/webviews/editor/editsList';
import type { EditView } from '../../../src/shared/protocol';

const edit: EditView = { label: 'Quantize all layers to int8 per-channel', layers: ['conv1'], bytesBefore: 4096, bytesAfter: 1024, worstSqnrDb: 40, skipped: 0, changes: [] };

test('after a save the edits stay listed, marked saved', () => {
  const list = editsList([edit], 1);
  assert.equal(list.items.length, 1);
  assert.ok(list.items[0].saved && list.items[0].text.endsWith('(saved)'));
  assert.equal(list.hint, 'All edits are saved.');
});

test('before any edit, and after undo past a save', () => {
  assert.equal(editsList([], 0).hint, 'No edits yet: choose a transform above.');
  const undone = editsList([], null);
  assert.match(undone.hint!, /file on disk holds a model these edits do not lead to/);
  assert.equal(editsList([edit], 0).hint, null);
});
