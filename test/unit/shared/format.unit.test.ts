/** Number formatting shared by the CLI, the report and the webviews. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { byteAxisUnit, humanBytes, humanSeconds, plural, splitVerdict } from '../../../src/shared/format';

test('a byte axis counts in the unit of its largest bar, so its ticks land on round values of it', () => {
  assert.deepEqual(byteAxisUnit(0), { name: 'B', bytes: 1 });
  assert.deepEqual(byteAxisUnit(1023), { name: 'B', bytes: 1 });
  assert.deepEqual(byteAxisUnit(1024), { name: 'KiB', bytes: 1024 });
  assert.deepEqual(byteAxisUnit(1_136_355), { name: 'MiB', bytes: 1024 ** 2 });
  assert.deepEqual(byteAxisUnit(3 * 1024 ** 3), { name: 'GiB', bytes: 1024 ** 3 });
  assert.deepEqual(byteAxisUnit(1024 ** 6), { name: 'TiB', bytes: 1024 ** 4 }, 'the largest unit caps it');
});

test('human byte sizes', () => {
  assert.equal(humanBytes(1000), '1000 B');
  assert.match(humanBytes(1_136_355), /^1\.0\d MiB$/);
});

test('counts agree with their noun; short durations keep their digits', () => {
  assert.deepEqual([plural(1, 'layer'), plural(0, 'layer'), plural(3, 'layer'), plural(1, 'entry', 'entries'), plural(2, 'entry', 'entries')], ['1 layer', '0 layers', '3 layers', '1 entry', '2 entries']);
  assert.deepEqual([humanSeconds(10), humanSeconds(300), humanSeconds(2500), humanSeconds(120_400)], ['0.01 s', '0.3 s', '2.5 s', '120 s']);
});

test('splitVerdict: PASS, FAIL and NO VERDICT apart from their text; a line without one is all text', () => {
  assert.deepEqual(splitVerdict('PASS: 1 budget check met: x'), { word: 'PASS', rest: '1 budget check met: x' });
  assert.deepEqual(splitVerdict('FAIL: 1 of 2 budget checks missed: y'), { word: 'FAIL', rest: '1 of 2 budget checks missed: y' });
  assert.deepEqual(splitVerdict('NO VERDICT: 1 of 1 budget checks cannot be judged'), { word: 'NO VERDICT', rest: '1 of 1 budget checks cannot be judged' });
  assert.deepEqual(splitVerdict('something else'), { word: '', rest: 'something else' });
});
