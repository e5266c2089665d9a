/**
 * GPTQ against an independent NumPy version of the same algorithm (make_gptq_reference.py), on
 * inputs with correlated columns: the same codes, scales and zero points, the same output error
 * ‖X·W − X·Ŵ‖, well below round-to-nearest's; with a diagonal H (nothing to compensate) it is
 * round-to-nearest exactly; batches yield to the caller, which can cancel; H is left as it was
 * unless GPTQ may overwrite it, which gives the same result.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { gptqLayout, gptqQuantize, type GptqOptions } from '../../../src/transforms/gptq';
import { quantizeValues, rangeOf, type Quantized } from '../../../src/transforms/quantizeMath';
import { floats, hessianOf, ints, loadGptqReference, type GptqCase } from '../../helpers/gptqReference';

const ref = loadGptqReference();

function optionsOf(c: GptqCase): GptqOptions {
  return { dtype: c.dtype, symmetric: c.symmetric, granularity: c.granularity, blockSize: c.block, actOrder: c.act_order };
}

/** ‖X·(W − Ŵ)‖_F in float64, X [rows, K], W [K, N]. */
function outputError(x: Float32Array, w: Float32Array, wHat: Float32Array, k: number, n: number): number {
  const rows = x.length / k;
  const d = Float64Array.from(w, (v, i) => v - wHat[i]);
  let sum = 0;
  const y = new Float64Array(n);
  for (let r = 0; r < rows; r++) {
    y.fill(0);
    for (let i = 0; i < k; i++) {
      const xi = x[r * k + i];
      for (let j = 0; j < n; j++) y[j] += xi * d[i * n + j];
    }
    for (let j = 0; j < n; j++) sum += y[j] * y[j];
  }
  return Math.sqrt(sum);
}

/** What DequantizeLinear computes from codes, scales and zero points in gptqLayout's layout. */
function dequantized(q: Quantized, k: number, n: number, options: GptqOptions): Float32Array {
  const groups = gptqLayout(k, n, options.granularity, options.blockSize).groupIndices(k * n);
  return Float32Array.from(q.codes, (c, i) => (c - q.zeroPoints[groups[i]]) * q.scales[groups[i]]);
}

function rtn(w: Float32Array, k: number, n: number, options: GptqOptions): Quantized {
  return quantizeValues(w, gptqLayout(k, n, options.granularity, options.blockSize), rangeOf(options.dtype), options.symmetric);
}

for (const c of ref.cases) {
  test(`${c.name}: K=${c.k} N=${c.n} matches the NumPy reference and beats round-to-nearest`, async (t) => {
    const { k, n } = c;
    const x = floats(ref, `${c.name}__x`);
    const w = floats(ref, `${c.name}__w`);
    const options = optionsOf(c);
    const h = hessianOf(x, k, ref.hessianBatches);
    const kept = Float64Array.from(h);
    const q = await gptqQuantize(w, k, n, h, options);
    assert.deepEqual(h, kept);
    // Allowed to, GPTQ works in H's place (H ends as the inverse factor), to the same result.
    assert.deepEqual(await gptqQuantize(w, k, n, h, { ...options, overwriteHessian: true }), q);
    assert.notDeepEqual(h, kept);
    const expected: Quantized = {
      codes: ints(ref, `${c.name}__codes`), scales: floats(ref, `${c.name}__scales`), zeroPoints: ints(ref, `${c.name}__zero_points`), restored: new Float32Array(),
    };
    const differing = q.codes.reduce((count, code, i) => count + (code === expected.codes[i] ? 0 : 1), 0);
    assert.equal(differing, 0, `${differing} of ${k * n} codes differ from the reference`);
    assert.deepEqual(Array.from(q.zeroPoints), Array.from(expected.zeroPoints));
    q.scales.forEach((s, g) => assert.ok(Math.abs(s - expected.scales[g]) <= 2 ** -23 * s, `scale ${g}: ${s} vs ${expected.scales[g]}`));
    // restored is DequantizeLinear's output, and the reference's weights to float32 rounding
    assert.deepEqual(q.restored, dequantized(q, k, n, options));
    const theirs = dequantized(expected, k, n, options);
    const top = theirs.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    q.restored.forEach((v, i) => assert.ok(Math.abs(v - theirs[i]) <= 2 ** -23 * top, `weight ${i}: ${v} vs ${theirs[i]}`));
    for (const d of c.dead) for (let j = 0; j < n; j++) assert.equal(q.restored[d * n + j], 0, `dead input ${d}`);
    const ours = outputError(x, w, q.restored, k, n);
    assert.ok(Math.abs(ours - c.outputError) <= 1e-4 * c.outputError, `‖XW − XŴ‖ ${ours} vs the reference's ${c.outputError}`);
    const baseline = outputError(x, w, rtn(w, k, n, options).restored, k, n);
    assert.ok(Math.abs(baseline - c.rtnOutputError) <= 1e-4 * c.rtnOutputError, `round-to-nearest ${baseline} vs NumPy's ${c.rtnOutputError}`);
    t.diagnostic(`‖XW − XŴ‖ GPTQ ${ours.toPrecision(6)} (NumPy ${c.outputError.toPrecision(6)}), round-to-nearest ${baseline.toPrecision(6)}: ratio ${(ours / baseline).toFixed(3)}`);
    assert.ok(ours < 0.8 * baseline, `GPTQ ${ours} vs round-to-nearest ${baseline}: ratio ${(ours / baseline).toFixed(3)}`);
  });
}

/** W [K, N] with a few outliers, deterministic. */
function weights(k: number, n: number): Float32Array {
  return Float32Array.from({ length: k * n }, (_, i) => Math.fround(Math.sin(i * 12.9898) * 0.05 + (i % 97 === 0 ? 0.3 : 0)));
}

function diagonal(k: number, value: (i: number) => number): Float64Array {
  const h = new Float64Array(k * k);
  for (let i = 0; i < k; i++) h[i * k + i] = value(i);
  return h;
}

test('with a diagonal H there is nothing to compensate: GPTQ is round-to-nearest exactly', async () => {
  const k = 200; // not a multiple of the 128-row batch nor of the blocks
  const n = 24;
  const w = weights(k, n);
  const cases: GptqOptions[] = [
    { dtype: 'int4', symmetric: true, granularity: 'per-channel' },
    { dtype: 'uint4', symmetric: false, granularity: 'block', blockSize: 32 },
    { dtype: 'int8', symmetric: false, granularity: 'block', blockSize: 48, actOrder: true },
    { dtype: 'uint8', symmetric: true, granularity: 'per-channel', actOrder: true },
  ];
  for (const options of cases) {
    for (const h of [diagonal(k, () => 1), diagonal(k, (i) => 1 + ((i * 37) % 11))]) {
      const q = await gptqQuantize(w, k, n, h, options);
      const r = rtn(w, k, n, options);
      const label = JSON.stringify(options);
      assert.deepEqual(q.codes, Int32Array.from(r.codes), label); // GPTQ keeps codes in Int32Array, round to nearest in bytes
      assert.deepEqual(q.scales, r.scales, label);
      assert.deepEqual(q.zeroPoints, r.zeroPoints, label);
      assert.deepEqual(q.restored, r.restored, label);
    }
  }
});

test('the checkpoint runs before every batch of 128 rows, and in the factorization, and can cancel', async () => {
  const k = 300;
  const n = 8;
  const w = weights(k, n);
  const h = diagonal(k, () => 2);
  let calls = 0;
  await gptqQuantize(w, k, n, h, { dtype: 'int8', symmetric: true, granularity: 'per-channel', checkpoint: async () => void calls++ });
  assert.equal(calls, 3 + 2 * 2); // 3 batches; rows 128 and 256 of the Cholesky and of the inverse
  calls = 0;
  const cancel = async (): Promise<void> => {
    if (++calls === 2) throw new Error('cancelled');
  };
  await assert.rejects(gptqQuantize(w, k, n, h, { dtype: 'int8', symmetric: true, granularity: 'per-channel', checkpoint: cancel }), /cancelled/);
  assert.equal(calls, 2);
});

test('the input H is left as it was; wrong sizes are refused', async () => {
  const k = 4;
  const n = 2;
  const h = diagonal(k, (i) => i); // input 0 is dead
  const before = Float64Array.from(h);
  const q = await gptqQuantize(weights(k, n), k, n, h, { dtype: 'int8', symmetric: true, granularity: 'per-channel', actOrder: true });
  assert.deepEqual(h, before);
  assert.deepEqual(Array.from(q.restored.subarray(0, n)), [0, 0]);
  const options: GptqOptions = { dtype: 'int4', symmetric: true, granularity: 'block', blockSize: 0 };
  await assert.rejects(gptqQuantize(weights(k, n), k, n, h, options), /block size 0/);
  await assert.rejects(gptqQuantize(weights(k, n), k, n, h, { ...options, blockSize: 2, damp: -0.1 }), /damping -0.1/);
  await assert.rejects(gptqQuantize(weights(k, n), k, n + 1, h, { ...options, blockSize: 2 }), /W has 8 values/);
  await assert.rejects(gptqQuantize(weights(k, n), k, n, h.subarray(1), { ...options, blockSize: 2 }), /H has 15 values/);
  await assert.rejects(gptqQuantize(weights(k, n), k, n, diagonal(k, (i) => -i - 1), { ...options, blockSize: 2 }), /not positive definite/);
});
