/** Splitting layers between workers: every layer has one owner, the split is balanced and repeatable. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { assignShards } from '../../../src/analyzers/shards';

test('each layer goes to one shard; loads stay within 4/3 of the best split', () => {
  const work = [900, 10, 500, 500, 400, 300, 300, 7, 0, 0, 120];
  for (const count of [1, 2, 3, 4]) {
    const owner = assignShards(work, count);
    assert.equal(owner.length, work.length);
    const load = new Array(count).fill(0);
    owner.forEach((s, i) => {
      assert.ok(s >= 0 && s < count);
      load[s] += work[i];
    });
    const best = Math.max(Math.max(...work), work.reduce((a, b) => a + b, 0) / count);
    assert.ok(Math.max(...load) <= (4 / 3) * best + 2, `count ${count}: loads ${load}`);
  }
  assert.deepEqual(assignShards(work, 3), assignShards([...work], 3), 'same input, same split');
});

test('two shards of equal halves split them exactly', () => {
  assert.deepEqual([...assignShards([5, 5, 3, 3, 2, 2], 2)].sort(), [0, 0, 0, 1, 1, 1]);
  const owner = assignShards([5, 5, 3, 3, 2, 2], 2);
  const load = [0, 0];
  [5, 5, 3, 3, 2, 2].forEach((w, i) => (load[owner[i]] += w));
  assert.deepEqual(load, [10, 10]);
});

test('a bad shard count is refused', () => {
  assert.throws(() => assignShards([1], 0), RangeError);
  assert.throws(() => assignShards([1], 1.5), RangeError);
});
