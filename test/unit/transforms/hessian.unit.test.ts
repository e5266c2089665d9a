/**
 * The streaming Hessian: batches of odd sizes (partial chunks) give NumPy's running average of
 * 2·XᵢᵀXᵢ, an odd K the plain sum; H is symmetric; use after finish() and bad input are refused.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { HessianAccumulator } from '../../../src/transforms/hessian';
import { doubles, floats, hessianOf, loadGptqReference } from '../../helpers/gptqReference';

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

test('odd K, one row at a time or 70 at once (past one chunk): 2·XᵀX / n as written', () => {
  const k = 5;
  const rows = 70;
  const x = Float32Array.from({ length: rows * k }, (_, i) => Math.fround(Math.sin(i * 1.7) * (i % 3)));
  const direct = new Float64Array(k * k);
  for (let r = 0; r < rows; r++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) direct[i * k + j] += (2 / rows) * x[r * k + i] * x[r * k + j];
  const one = new HessianAccumulator(k);
  for (let r = 0; r < rows; r++) one.add(x.subarray(r * k, r * k + k), 1);
  for (const h of [one.finish(), hessianOf(x, k, [])]) {
    h.forEach((v, i) => assert.ok(Math.abs(v - direct[i]) <= 1e-12 * Math.abs(direct[i]) + 1e-15, `H[${i}] = ${v}, directly ${direct[i]}`));
  }
  assert.ok(direct[0] > 0 && direct[k * k - 1] > 0);
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
