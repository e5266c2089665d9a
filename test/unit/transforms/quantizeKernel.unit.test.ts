/**
 * The quantize transform's WebAssembly kernel against the JavaScript it stands in for
 * (quantizeMath.ts with the kernels switched off): every layout (per tensor, per channel on the
 * first, a middle and the last axis, blocks along each, partial blocks), every code type, odd
 * lengths, denormals, signed zeros, huge and all-zero weights; codes, scales, zero points and
 * restored values bit for bit, the error figures and histograms equal (energies to rounding);
 * NaN and infinity reported wherever they sit; the kernel's kept memory never leaks into results.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { codeOf, rangeOf, scaleLayout, quantizeValues, type Quantized } from '../../../src/transforms/quantizeMath';
import { errorOf, changeError } from '../../../src/transforms/transform';
import { kernelQuantize, leaseWeights, quantizeKernelAvailable, runsOf, type KernelFit } from '../../../src/transforms/wasm/quantizeKernel';
import type { Granularity } from '../../../src/shared/stepSpec';
import { assertSameValues, bothWays } from '../../helpers/kernelVsJs';

function random(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
  return Float32Array.from({ length: n }, () => (next() + next() + next() - 1.5) * scale * (0.5 + next()));
}

function both(values: Float32Array, dims: number[], granularity: Granularity, axis: number | undefined, blockSize: number, dtype: 'int8' | 'uint8' | 'int4' | 'uint4', symmetric: boolean): { js: Quantized; wasm: Quantized } {
  const layout = scaleLayout(dims, granularity, axis, blockSize);
  return bothWays(() => quantizeValues(values, layout, rangeOf(dtype), symmetric));
}

function assertSame(js: Quantized, wasm: Quantized, values: Float32Array, label: string): void {
  assertSameValues(js, wasm, label);
  assert.ok(wasm.sums, `${label}: the kernel ran`);
  const expected = errorOf(values, js.restored);
  const got = changeError(wasm.sums.signal, wasm.sums.noise, wasm.sums.maxError, { min: wasm.sums.min, max: wasm.sums.max, before: wasm.sums.before, after: wasm.sums.after });
  assert.equal(got.maxError, expected.maxError, `${label}: max error`);
  assert.deepEqual(got.histogram, expected.histogram, `${label}: histogram`);
  if (expected.sqnrDb === null) assert.equal(got.sqnrDb, null, label);
  else assert.ok(Math.abs((got.sqnrDb ?? NaN) - expected.sqnrDb) < 1e-9, `${label}: SQNR ${got.sqnrDb} vs ${expected.sqnrDb}`);
}

/** Symmetric INT8 scales from the kernel's ranges. */
const unitFit = ({ hi, lo }: { lo: Float64Array; hi: Float64Array }): KernelFit => {
  const scales = Float32Array.from(hi, (h, g) => Math.max(h, -lo[g]) / 127 || 1);
  return { scales, zeroPoints: new Int32Array(hi.length), restored: (x, g) => Math.fround(codeOf(x, scales[g], 0, -128, 127) * scales[g]) };
};

const LAYOUTS: { dims: number[]; granularity: Granularity; axis?: number; blockSize?: number; label: string }[] = [
  { dims: [37, 29], granularity: 'per-tensor', label: 'per tensor, odd length' },
  { dims: [16, 3, 3, 3], granularity: 'per-channel', axis: 0, label: 'conv, per channel on axis 0' },
  { dims: [45, 33], granularity: 'per-channel', axis: 1, label: 'MatMul, per channel on the last axis (odd)' },
  { dims: [5, 6, 7, 3], granularity: 'per-channel', axis: 1, label: 'per channel on a middle axis' },
  { dims: [64, 24], granularity: 'block', axis: 0, blockSize: 16, label: 'blocks along axis 0' },
  { dims: [70, 13], granularity: 'block', axis: 0, blockSize: 32, label: 'blocks along axis 0, a partial block, odd rows' },
  { dims: [24, 96], granularity: 'block', axis: 1, blockSize: 32, label: 'blocks along the last axis, whole' },
  { dims: [9, 100], granularity: 'block', axis: 1, blockSize: 32, label: 'blocks along the last axis, a partial block' },
  { dims: [4, 50, 6], granularity: 'block', axis: 1, blockSize: 16, label: 'blocks along a middle axis' },
];

test('quantizeValues: the kernel gives what the JavaScript gives, on every layout and code type', { skip: !quantizeKernelAvailable() && 'no WebAssembly SIMD' }, () => {
  let seed = 1;
  for (const l of LAYOUTS) {
    const n = l.dims.reduce((a, b) => a * b, 1);
    for (const [dtype, symmetric] of [['int8', true], ['uint8', false], ['int4', true], ['uint4', false], ['int8', false]] as const) {
      const values = random(n, seed++, 0.1);
      const { js, wasm } = both(values, l.dims, l.granularity, l.axis, l.blockSize ?? 32, dtype, symmetric);
      assertSame(js, wasm, values, `${l.label}, ${dtype} ${symmetric ? 'symmetric' : 'asymmetric'}`);
    }
  }
});

test('quantizeValues: denormals, signed zeros, huge values, a zero channel, all zeros', { skip: !quantizeKernelAvailable() && 'no WebAssembly SIMD' }, () => {
  const n = 40 * 31;
  const special = random(n, 99, 1e-3);
  for (let i = 0; i < n; i += 7) special[i] = -0;
  for (let i = 3; i < n; i += 11) special[i] = 1e-42 * (i % 2 ? 1 : -1); // denormal
  for (let i = 0; i < 31; i++) special[5 * 31 + i] = 0; // a channel of zeros (scale 1)
  special[77] = 3e38;
  special[78] = -3e38;
  for (const [granularity, axis] of [['per-channel', 0], ['per-channel', 1], ['per-tensor', undefined], ['block', 1]] as const) {
    const { js, wasm } = both(special, [40, 31], granularity, axis, 16, 'int8', true);
    assertSame(js, wasm, special, `special values, ${granularity} ${axis}`);
    const a = both(special, [40, 31], granularity, axis, 16, 'uint4', false);
    assertSame(a.js, a.wasm, special, `special values, uint4 ${granularity} ${axis}`);
  }
  const zeros = new Float32Array(300);
  const z = both(zeros, [300], 'per-tensor', undefined, 32, 'int8', true);
  assertSame(z.js, z.wasm, zeros, 'all zeros');
  assert.equal(z.wasm.sums?.noise, 0);
});

test('quantizeValues reports NaN and infinity wherever they sit (vector body, a run\'s odd tail, first, last), kernel or not', () => {
  const kernel = quantizeKernelAvailable();
  // [20, 30] per channel on axis 0: runs of 30 (a tail of 2); on axis 1: a group per weight; [37, 29]: odd everything.
  for (const [dims, granularity, axis] of [[[20, 30], 'per-channel', 0], [[20, 30], 'per-channel', 1], [[37, 29], 'per-tensor', undefined], [[37, 29], 'block', 1]] as const) {
    const n = dims[0] * dims[1];
    for (const at of [0, 5, 28, 29, n - 1]) {
      for (const bad of [NaN, Infinity, -Infinity]) {
        const values = random(n, 5);
        values[at] = bad;
        const { js, wasm } = both(values, [...dims], granularity, axis, 16, 'int8', true);
        const label = `${bad} at ${at}, ${granularity} ${axis}`;
        assert.equal(js.nonFinite, true, `JavaScript: ${label}`);
        assert.equal(wasm.nonFinite, true, `kernel: ${label}`);
        assert.equal(wasm.sums, undefined, `no kernel figures: ${label}`);
        assert.deepEqual(wasm.codes, js.codes, label);
        if (kernel) assert.equal(kernelQuantize(values, 1, { granularity: 'per-tensor', size: 1, inner: 1, blockSize: 0 }, -128, 127, 'float32', unitFit), undefined, label);
      }
    }
  }
  const finite = both(random(600, 6), [20, 30], 'per-channel', 0, 32, 'int8', true);
  assert.equal(finite.js.nonFinite, undefined);
  assert.equal(finite.wasm.nonFinite, undefined);
});

test('the kernel\'s kept memory: a second, smaller call leaves the first results alone, and a third gives the first again', { skip: !quantizeKernelAvailable() && 'no WebAssembly SIMD' }, () => {
  const big = random(64 * 1001, 7, 0.2);
  const small = random(3 * 301, 8, 5);
  const layout = (n: number) => scaleLayout([n / 7, 7], 'per-channel', 1, 0);
  const first = quantizeValues(big, scaleLayout([64, 1001], 'per-channel', 0, 0), rangeOf('int8'), true);
  const kept = { codes: first.codes.slice(), restored: first.restored.slice() };
  const second = quantizeValues(small, layout(small.length), rangeOf('uint8'), false);
  assert.ok(first.sums && second.sums, 'the kernel ran');
  assert.ok(second.codes instanceof Uint8Array && first.codes instanceof Int8Array, 'codes a byte each, signed for a signed range');
  assert.deepEqual(first.codes, kept.codes, 'codes are copies');
  assert.deepEqual(first.restored, kept.restored, 'restored values are copies');
  const third = quantizeValues(big, scaleLayout([64, 1001], 'per-channel', 0, 0), rangeOf('int8'), true);
  assert.deepEqual(third, first);
});

test('kernelQuantize on tiny and empty tensors, and the runs cover each weight once with its group', { skip: !quantizeKernelAvailable() && 'no WebAssembly SIMD' }, () => {
  const fit = unitFit;
  const one = kernelQuantize(Float32Array.of(0.5), 1, { granularity: 'per-tensor', size: 1, inner: 1, blockSize: 0 }, -128, 127, 'float32', fit);
  assert.ok(one);
  assert.deepEqual([...one.codes], [127]);
  assert.equal(one.max, 0.5);
  assert.equal(one.noise, 0, '0.5 comes back exactly');
  const none = kernelQuantize(new Float32Array(0), 1, { granularity: 'per-tensor', size: 1, inner: 1, blockSize: 0 }, -128, 127, 'float32', fit);
  assert.ok(none);
  assert.equal(none.codes.length, 0);
  assert.ok(!(none.min <= none.max), 'no values: no range');
  for (const l of LAYOUTS) {
    const n = l.dims.reduce((a, b) => a * b, 1);
    const layout = scaleLayout(l.dims, l.granularity, l.axis, l.blockSize ?? 32);
    const expected = layout.groupIndices(n);
    const seen = new Int32Array(n).fill(-1);
    for (const r of runsOf(n, layout.geometry)) {
      for (let row = 0; row < r.rows; row++) {
        for (let j = 0; j < r.len; j++) {
          const at = r.at + row * r.len + j;
          assert.equal(seen[at], -1, `${l.label}: weight ${at} once`);
          seen[at] = r.group + row * r.rowStep + (r.perWeight ? j : 0);
        }
      }
    }
    assert.deepEqual(seen, expected, `${l.label}: groups`);
  }
});

test('weights read into the leased kernel memory give what the same weights in an array give; one holder at a time', { skip: !quantizeKernelAvailable() && 'no WebAssembly SIMD' }, () => {
  const cases: { dims: number[]; granularity: Granularity; axis?: number; label: string }[] = [
    { dims: [45, 33], granularity: 'per-channel', axis: 1, label: 'a group per weight, odd' },
    { dims: [16, 3, 3, 3], granularity: 'per-channel', axis: 0, label: 'conv rows' },
    { dims: [37, 29], granularity: 'per-tensor', label: 'per tensor, odd' },
  ];
  for (const c of cases) {
    const n = c.dims.reduce((a, b) => a * b, 1);
    const values = random(n, 31, 0.3);
    const layout = scaleLayout(c.dims, c.granularity, c.axis, 0);
    const plain = quantizeValues(values, layout, rangeOf('int8'), true);
    const lease = leaseWeights(n);
    assert.ok(lease, c.label);
    try {
      assert.equal(leaseWeights(n), undefined, `${c.label}: held, so no second lease`);
      lease.values.set(values);
      const leased = quantizeValues(lease.values, layout, rangeOf('int8'), true);
      assert.deepEqual(leased, plain, c.label);
      assert.deepEqual(lease.values, values, `${c.label}: the weights are still there to read`);
    } finally {
      lease.release();
    }
  }
  // One weight, and a NaN: the JavaScript then reads the leased weights (still attached).
  const one = leaseWeights(1)!;
  one.values[0] = -0.25;
  const fit = unitFit;
  const q = kernelQuantize(one.values, 1, { granularity: 'per-tensor', size: 1, inner: 1, blockSize: 0 }, -128, 127, 'float32', fit);
  assert.deepEqual([...(q?.codes ?? [])], [-127]);
  one.release();
  const bad = leaseWeights(300)!;
  bad.values.set(random(300, 3));
  bad.values[299] = NaN;
  const r = quantizeValues(bad.values, scaleLayout([300], 'per-tensor', undefined, 0), rangeOf('int8'), true);
  assert.equal(r.nonFinite, true);
  assert.equal(r.codes.length, 300);
  bad.release();
  const next = leaseWeights(8);
  assert.ok(next, 'released, so free again');
  bad.release();
  assert.equal(leaseWeights(8), undefined, 'a second release of an old lease leaves the new holder\'s alone');
  next.release();
  // A small lease's memory stays for the next; a big one's goes with it.
  const small = leaseWeights(1000)!;
  const buffer = small.values.buffer;
  small.release();
  const again = leaseWeights(2000)!;
  assert.equal(again.values.buffer, buffer, 'kept between small leases');
  again.release();
  const big = leaseWeights(3_000_000)!;
  const bigBuffer = big.values.buffer;
  big.release();
  const after = leaseWeights(1000)!;
  assert.notEqual(after.values.buffer, bigBuffer, 'a big lease\'s memory is not kept');
  after.release();
});
