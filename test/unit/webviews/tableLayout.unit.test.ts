/** The layer table's layout: long names shortened in the middle, column widths never under their header's, missing figures sorted last. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { columnWidth, compareForSort, gridTemplate, shortenMiddle } from '../../../src/webviews/editor/tableLayout';

const byLength = (s: string): number => Array.from(s).length;

test('a name that fits is left whole', () => {
  assert.equal(shortenMiddle('conv1', 5, byLength), 'conv1');
  assert.equal(shortenMiddle('', 0, byLength), '');
});

test('a long name keeps its start and end around an ellipsis, as much as fits', () => {
  const name = 'model/encoder/layers.11/self_attn/q_proj/MatMul';
  const short = shortenMiddle(name, 20, byLength);
  assert.equal(byLength(short), 20);
  assert.ok(short.includes('…'));
  const [start, end] = short.split('…');
  assert.ok(name.startsWith(start) && name.endsWith(end));
  assert.ok(Math.abs(start.length - end.length) <= 1, short);
  assert.equal(short, 'model/enco…oj/MatMul');
});

test('never wider than the room, down to the ellipsis alone', () => {
  const name = 'a_very_long_layer_name_indeed';
  for (let room = 1; room < name.length; room++) assert.ok(byLength(shortenMiddle(name, room, byLength)) <= room, String(room));
  assert.equal(shortenMiddle(name, 1, byLength), '…');
  assert.equal(shortenMiddle(name, 0, byLength), '…');
});

test('works with real widths and does not split code points', () => {
  const wide = (s: string): number => [...s].reduce((w, c) => w + (c === 'W' ? 3 : 1), 0);
  const short = shortenMiddle('WWWWWWWWWW_tail', 10, wide);
  assert.ok(wide(short) <= 10, short);
  const emoji = shortenMiddle('😀😀😀😀😀😀😀😀', 5, byLength);
  assert.equal(emoji, '😀😀…😀😀');
});

test('column widths: asked for, else the default, never under what the header needs', () => {
  assert.equal(columnWidth(120, 80, 60), 120);
  assert.equal(columnWidth(undefined, 80, 60), 80);
  assert.equal(columnWidth(30, 80, 60), 60);
  assert.equal(columnWidth(Number.NaN, 80, 90), 90);
  assert.equal(gridTemplate([200, 80, 64]), 'minmax(200px, 1fr) 80px 64px');
});

test('sorting puts missing figures last either way, infinities in order', () => {
  const values = [3, undefined, Infinity, 1, null, -Infinity];
  const up = [...values].sort((a, b) => compareForSort(a, b, false));
  const down = [...values].sort((a, b) => compareForSort(a, b, true));
  assert.deepEqual(up.slice(0, 4), [-Infinity, 1, 3, Infinity]);
  assert.deepEqual(down.slice(0, 4), [Infinity, 3, 1, -Infinity]);
  assert.ok(up.slice(4).every((v) => v === null || v === undefined));
  assert.ok(down.slice(4).every((v) => v === null || v === undefined));
  assert.deepEqual(['b', 'a', 'c'].sort((a, b) => compareForSort(a, b, false)), ['a', 'b', 'c']);
});
