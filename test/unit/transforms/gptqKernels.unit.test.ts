/**
 * GPTQ with its products in WebAssembly (lazy group and batch updates, the blocked inverse
 * factor) against the same algorithm all in JavaScript, on a layer with correlated inputs and
 * sizes that cut batches, groups and scale blocks unevenly: the same codes, scales and zero
 * points (the sums differ only in float64 rounding order), for every granularity and order; the
 * lazy update on W where it lies in a kernel's memory (Workspace) is the copying one to the bit.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { gptqQuantize, type GptqOptions } from '../../../src/transforms/gptq';
import { spreadAfter, Workspace } from '../../../src/transforms/gptqKernels';
import { useKernels } from '../../../src/analyzers/wasm/kernelSwitch';
import { seededRandom } from '../../../src/core/random';

/** H = XᵀX + I over 400 samples whose neighbouring inputs share a component. */
function hessian(k: number): Float64Array {
  const random = seededRandom(5);
  const x = Float64Array.from({ length: 400 * k }, () => random() * 2 - 1);
  for (let r = 0; r < 400; r++) for (let i = k - 1; i > 0; i--) x[r * k + i] += 0.8 * x[r * k + i - 1];
  const h = new Float64Array(k * k);
  for (let r = 0; r < 400; r++) for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) h[i * k + j] += x[r * k + i] * x[r * k + j];
  for (let i = 0; i < k; i++) h[i * k + i] += 1;
  return h;
}

test('the WebAssembly products give the JavaScript GPTQ (K = 300, N = 37)', async () => {
  const k = 300;
  const n = 37;
  const random = seededRandom(9);
  const w = Float32Array.from({ length: k * n }, () => (random() - 0.5) * 0.1);
  const h = hessian(k);
  const cases: GptqOptions[] = [
    { dtype: 'int4', symmetric: true, granularity: 'per-channel' },
    { dtype: 'uint4', symmetric: false, granularity: 'block', blockSize: 40 },
    { dtype: 'int4', symmetric: false, granularity: 'block', blockSize: 16 },
    { dtype: 'int8', symmetric: true, granularity: 'block', blockSize: 48, actOrder: true },
    { dtype: 'uint8', symmetric: false, granularity: 'per-channel', actOrder: true },
  ];
  for (const options of cases) {
    const fast = await gptqQuantize(w, k, n, h, options);
    useKernels(false);
    const plain = await gptqQuantize(w, k, n, h, options).finally(() => useKernels(true));
    const label = JSON.stringify(options);
    const differing = fast.codes.reduce((count, c, i) => count + (c === plain.codes[i] ? 0 : 1), 0);
    assert.equal(differing, 0, `${label}: ${differing} codes differ`);
    assert.deepEqual(fast.scales, plain.scales, label);
    assert.deepEqual(fast.zeroPoints, plain.zeroPoints, label);
  }
});

test('the lazy update on W in a workspace equals the one that copies W in and out, to the bit', () => {
  const k = 301;
  const n = 37;
  const rows = 130;
  const random = seededRandom(4);
  const u = Float64Array.from({ length: k * k }, () => random() - 0.5);
  const w = Float64Array.from({ length: k * n }, () => random() - 0.5);
  const err = Float64Array.from({ length: rows * n }, () => random() - 0.5);
  const before = Float64Array.from(w);
  const space = new Workspace(k, n, rows);
  space.w.set(w);
  space.err.set(err);
  // a group's update (rows 3…9 of the batch to the batch's end), then a batch's (to the end of W)
  for (const [from, to, until, errAt] of [[3, 10, 130, 3 * n], [0, 130, k, 0]]) {
    spreadAfter(w, u, n, k, from, to, until, err, errAt);
    spreadAfter(space.w, u, n, k, from, to, until, space.err, errAt, space);
  }
  assert.deepEqual(space.w, w);
  assert.notDeepEqual(w, before);
});
