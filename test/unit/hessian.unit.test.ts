/**
 * The streaming Hessian: batches of odd sizes (the four-row and one-row paths) give NumPy's
 * running average of 2·XᵢᵀXᵢ; it is symmetric, and it refuses use after finish() and bad input.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { HessianAccumulator } from '../../src/transforms/hessian';
import { doubles, floats, hessianOf, loadGptqReference } from '../helpers/gptqReference';

const ref = loadGptqReference();

test('H from batches of 7, 50, 1, 33 and the rest equals NumPy\'s running average', () => {
  const c = ref.cases[0];
  const h = hessianOf(floats(ref, `${c.name}__x`), c.k, ref.hessianBatches);
  const expected = doubles(ref, 'hessian');
  let worst = 0;
  let scale = 0;
  for (let i = 0; i < h.length; i++) {
    worst = Math.max(worst, Math.abs(h[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  assert.ok(scale > 0);
  assert.ok(worst <= 1e-12 * scale, `max |H − H_numpy| = ${worst} (max |H| ${scale})`);
  for (let i = 0; i < c.k; i++) for (let j = 0; j < i; j++) assert.equal(h[i * c.k + j], h[j * c.k + i]);
});

test('one row at a time gives the same H as four at a time', () => {
  const k = 5;
  const x = Float32Array.from({ length: 9 * k }, (_, i) => Math.sin(i * 1.7) * (i % 3));
  const one = new HessianAccumulator(k);
  for (let r = 0; r < 9; r++) one.add(x.subarray(r * k, r * k + k), 1);
  const all = hessianOf(x, k, []);
  assert.deepEqual(Array.from(one.finish(), (v) => Number(v.toPrecision(12))), Array.from(all, (v) => Number(v.toPrecision(12))));
  assert.ok(all[0] > 0);
});

test('no rows give zeros; finished, short or fractional input is refused', () => {
  const empty = new HessianAccumulator(3);
  assert.deepEqual(Array.from(empty.finish()), new Array(9).fill(0));
  assert.throws(() => empty.add(new Float32Array(3), 1), /already finished/);
  assert.throws(() => empty.finish(), /already finished/);
  const acc = new HessianAccumulator(3);
  assert.throws(() => acc.add(new Float32Array(5), 2), /2 rows of 3 need 6 values, got 5/);
  assert.throws(() => acc.add(new Float32Array(6), 1.5), /rows of 3/);
  assert.throws(() => new HessianAccumulator(0), /positive integer/);
});
