/**
 * The quantize kernel on FLOAT16 and BFLOAT16 weights, against the JavaScript it stands in for:
 * its rounding of float32 to either type and back (every half's neighbourhood and every
 * bfloat16's; all 2^32 float32 bit patterns with ONNX_COMPRESS_EXHAUSTIVE=1, about a minute),
 * then quantizeValues with the restored values rounded to the weight's type on edge cases:
 * NaN and infinity, denormal halves, values that come back as ±65504 or past it, ±0, odd
 * lengths, one weight and none; and the leased kernel memory widening FLOAT16 and BFLOAT16 codes.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { rangeOf, scaleLayout, quantizeValues, type Quantized } from '../../../src/transforms/quantizeMath';
import { errorOf, changeError } from '../../../src/transforms/transform';
import { kernelNarrow, kernelQuantize, leaseWeights, quantizeKernelAvailable, type KernelFit } from '../../../src/transforms/wasm/quantizeKernel';
import { widenToFloat32 } from '../../../src/core/onnx/widen';
import { bfloat16Bits, float16Value, roundToBrain, roundToHalf, roundUpTo } from '../../../src/transforms/floatSource';
import { float16Bits } from '../../../src/core/onnx/halfFloat';
import { DataType } from '../../../src/core/onnx/dataTypes';
import type { Granularity } from '../../../src/shared/stepSpec';
import { assertSameValues, bothWays } from '../../helpers/kernelVsJs';

const skip = !quantizeKernelAvailable() && 'no WebAssembly SIMD';
const HALVES = Float32Array.from({ length: 65536 }, (_, h) => float16Value(h));
const HALF_BITS = new Uint32Array(HALVES.buffer);

/** Bit patterns whose kernel rounding differs from the JavaScript's (NaN for NaN is the same), the first few. */
function mismatches(bits: Uint32Array, type: 'float16' | 'bfloat16', out: string[]): void {
  const values = new Float32Array(new Uint32Array(bits).buffer);
  kernelNarrow(values, type);
  const got = new Uint32Array(values.buffer);
  const f = new Float32Array(bits.buffer, bits.byteOffset, bits.length);
  for (let i = 0; i < bits.length && out.length < 5; i++) {
    const expected = type === 'float16' ? HALF_BITS[float16Bits(f[i])] : (bfloat16Bits(f[i]) << 16) >>> 0;
    if (got[i] === expected) continue;
    if (Number.isNaN(f[i]) && Number.isNaN(values[i])) continue;
    out.push(`${type} 0x${bits[i].toString(16)}: 0x${got[i].toString(16)}, not 0x${expected.toString(16)}`);
  }
}

test('the kernel rounds float32 to FLOAT16 and BFLOAT16 and back as roundTo does: every half\'s and bfloat16\'s neighbourhood', { skip }, () => {
  const bits: number[] = [];
  const up = new Float32Array(1);
  const upBits = new Uint32Array(up.buffer);
  for (let h = 0; h < 0x10000; h++) {
    // The half, its float32 neighbours, and the float32s around the midpoint to the next half up.
    const b = HALF_BITS[h];
    for (let d = -2; d <= 2; d++) bits.push((b + d) >>> 0);
    if ((h & 0x7c00) === 0x7c00) continue;
    up[0] = float16Value(h + 1 === 0x8000 ? h : h + 1);
    const mid = (b & 0x80000000) === (upBits[0] & 0x80000000) ? Math.round((b + upBits[0]) / 2) : b;
    for (let d = -1; d <= 1; d++) bits.push((mid + d) >>> 0);
  }
  // Past the largest half (65504, 65519.99, 65520: the midpoint to what would be 65536) and bfloat16's neighbourhoods.
  for (const v of [65504, 65519.99, 65520, 65536, 1e6, 3.4e38, 2 ** -25, 2 ** -24, 1.5 * 2 ** -24, 2 ** -14, 1e-45]) {
    up[0] = v;
    for (let d = -2; d <= 2; d++) bits.push((upBits[0] + d) >>> 0, ((upBits[0] | 0x80000000) + d) >>> 0);
  }
  for (let b = 0; b < 0x10000; b++) for (const low of [0, 1, 0x7fff, 0x8000, 0x8001, 0xffff]) bits.push(((b << 16) | low) >>> 0);
  const all = Uint32Array.from(bits);
  const out: string[] = [];
  // Each value in each of a vector's four lanes, and (odd lengths) in the scalar tail.
  for (let lane = 0; lane < 4; lane++) {
    mismatches(all.subarray(lane), 'float16', out);
    mismatches(all.subarray(lane), 'bfloat16', out);
  }
  for (let at = 0; at < all.length; at += 3) mismatches(all.subarray(at, at + 3), 'float16', out);
  assert.deepEqual(out, []);
});

test('the kernel\'s rounding to FLOAT16 and BFLOAT16 over all 2^32 float32 bit patterns', { skip: skip || (process.env.ONNX_COMPRESS_EXHAUSTIVE !== '1' && 'set ONNX_COMPRESS_EXHAUSTIVE=1') }, () => {
  const chunk = new Uint32Array(1 << 22);
  const out: string[] = [];
  for (let start = 0; start < 2 ** 32 && out.length === 0; start += chunk.length) {
    for (let i = 0; i < chunk.length; i++) chunk[i] = start + i;
    mismatches(chunk, 'float16', out);
    mismatches(chunk, 'bfloat16', out);
  }
  assert.deepEqual(out, []);
});

type Store = 'float16' | 'bfloat16';
const ROUNDER = { float16: roundToHalf, bfloat16: roundToBrain };
const TYPE = { float16: DataType.Float16, bfloat16: DataType.BFloat16 } as const;

/** JavaScript (kernels off) and kernel quantizeValues of `values` held as `store`, scales rounded up to `scale`. */
function both(values: Float32Array, dims: number[], granularity: Granularity, axis: number | undefined, dtype: 'int8' | 'uint8' | 'int4' | 'uint4', symmetric: boolean, store: Store, scale: 'float32' | Store): { js: Quantized; wasm: Quantized } {
  const layout = scaleLayout(dims, granularity, axis, 16);
  const storeScale = scale === 'float32' ? Math.fround : (x: number): number => roundUpTo(TYPE[scale], x);
  return bothWays(() => quantizeValues(values, layout, rangeOf(dtype), symmetric, storeScale, ROUNDER[store]));
}

function assertSame(js: Quantized, wasm: Quantized, values: Float32Array, label: string): void {
  assertSameValues(js, wasm, label);
  assert.equal(wasm.nonFinite, js.nonFinite, `${label}: NaN or infinity`);
  const expected = errorOf(values, js.restored);
  const got = wasm.sums ? changeError(wasm.sums.signal, wasm.sums.noise, wasm.sums.maxError, { min: wasm.sums.min, max: wasm.sums.max, before: wasm.sums.before, after: wasm.sums.after }) : errorOf(values, wasm.restored);
  assert.equal(got.maxError, expected.maxError, `${label}: max error`);
  assert.deepEqual(got.histogram, expected.histogram, `${label}: histogram`);
  // Energies added in the same order: the SQNR to the last bit.
  assert.equal(got.sqnrDb, expected.sqnrDb, `${label}: SQNR`);
}

/** `n` weights held as `store`: a spread of magnitudes, denormal halves, ±0. */
function weights(n: number, seed: number, store: Store, scale = 1): Float32Array {
  let s = seed >>> 0;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
  const out = Float32Array.from({ length: n }, () => ROUNDER[store]((next() - 0.5) * scale * 2 ** (-8 * next())));
  for (let i = 5; i < n; i += 13) out[i] = ROUNDER[store]((i % 2 ? 1 : -1) * 2 ** -24 * (1 + (i % 7))); // denormal halves (bfloat16: tiny normals)
  for (let i = 2; i < n; i += 17) out[i] = i % 2 ? -0 : 0;
  return out;
}

const SHAPES: { dims: number[]; granularity: Granularity; axis?: number; label: string }[] = [
  { dims: [37, 29], granularity: 'per-tensor', label: 'per tensor, odd length' },
  { dims: [16, 3, 3, 3], granularity: 'per-channel', axis: 0, label: 'conv, per channel on axis 0' },
  { dims: [45, 33], granularity: 'per-channel', axis: 1, label: 'per channel on the last axis (odd)' },
  { dims: [70, 13], granularity: 'block', axis: 0, label: 'blocks along axis 0, a partial block' },
  { dims: [9, 100], granularity: 'block', axis: 1, label: 'blocks along the last axis, a partial block' },
];

test('quantizeValues of FLOAT16 and BFLOAT16 weights: the kernel gives what the JavaScript gives, bit for bit', { skip }, () => {
  let seed = 1;
  for (const store of ['float16', 'bfloat16'] as const) {
    for (const scale of ['float32', store] as const) {
      for (const l of SHAPES) {
        const n = l.dims.reduce((a, b) => a * b, 1);
        for (const [dtype, symmetric] of [['int8', true], ['uint8', false], ['int4', true], ['uint4', false]] as const) {
          const values = weights(n, seed++, store, seed % 3 ? 0.1 : 3e-4);
          const { js, wasm } = both(values, l.dims, l.granularity, l.axis, dtype, symmetric, store, scale);
          assert.ok(wasm.sums, 'the kernel ran');
          assertSame(js, wasm, values, `${store} (${scale} scales), ${l.label}, ${dtype} ${symmetric ? 'symmetric' : 'asymmetric'}`);
        }
      }
    }
  }
});

test('quantizeValues of FLOAT16 weights near 65504: values that come back as ±65504, or as infinity (then the JavaScript works the figures out)', { skip }, () => {
  let kernelRan = 0;
  let overflowed = 0;
  for (const top of [65504, 65472, 65000, 60000]) {
    for (const scale of ['float32', 'float16'] as const) {
      for (const [dtype, symmetric] of [['int8', true], ['uint8', false], ['int4', true]] as const) {
        const values = weights(301, top, 'float16', 2);
        values[7] = top;
        values[150] = -top;
        values[299] = roundToHalf(top * 0.999);
        const { js, wasm } = both(values, [301], 'per-tensor', undefined, dtype, symmetric, 'float16', scale);
        const label = `±${top}, ${scale} scales, ${dtype}`;
        assertSame(js, wasm, values, label);
        if (wasm.sums) kernelRan++;
        if (js.restored.some((r) => !Number.isFinite(r))) {
          overflowed++;
          assert.equal(wasm.sums, undefined, `${label}: an infinite restored value leaves the figures to the JavaScript`);
        }
      }
    }
  }
  assert.ok(kernelRan > 0 && overflowed > 0, `both cases seen (kernel ${kernelRan}, overflow ${overflowed})`);
});

test('quantizeValues of FLOAT16 weights with NaN or infinity reports them, kernel or not', { skip }, () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    for (const at of [0, 9, 300]) {
      const values = weights(301, 4, 'float16');
      values[at] = bad;
      const { js, wasm } = both(values, [301], 'per-tensor', undefined, 'int8', true, 'float16', 'float16');
      assert.equal(wasm.nonFinite, true, `${bad} at ${at}`);
      assert.deepEqual(wasm.codes, js.codes, `${bad} at ${at}`);
    }
  }
});

test('kernelQuantize rounding to FLOAT16 on one weight and on none', { skip }, () => {
  const fit = ({ hi, lo }: { lo: Float64Array; hi: Float64Array }): KernelFit => {
    const scales = Float32Array.from(hi, (h, g) => roundUpTo(DataType.Float16, Math.max(h, -lo[g]) / 127) || 1);
    return { scales, zeroPoints: new Int32Array(hi.length), restored: (x, g) => roundToHalf(Math.fround(Math.max(-128, Math.min(127, Math.round(x / scales[g]))) * scales[g])) };
  };
  const per = { granularity: 'per-tensor', size: 1, inner: 1, blockSize: 0 } as const;
  // 0.1 as a half, its scale 0.1 / 127 rounded up to a half: 127 codes of it come back a little off, rounded to a half.
  const x = roundToHalf(0.1);
  const one = kernelQuantize(Float32Array.of(x), 1, per, -128, 127, 'float16', fit);
  assert.ok(one);
  assert.deepEqual([...one.codes], [127]);
  const r = fit({ lo: Float64Array.of(0), hi: Float64Array.of(x) }).restored(x, 0);
  assert.equal(one.max, Math.max(x, r));
  assert.equal(one.maxError, Math.abs(x - r));
  assert.equal(roundToHalf(r), r, 'the restored value is a half');
  const none = kernelQuantize(new Float32Array(0), 1, per, -128, 127, 'float16', fit);
  assert.ok(none);
  assert.equal(none.codes.length, 0);
});

test('a lease widens FLOAT16 and BFLOAT16 codes as widenToFloat32 does: every code, an odd count, one; other types are not its', { skip }, () => {
  const codes = Uint16Array.from({ length: 65536 }, (_, c) => c);
  for (const dataType of [DataType.Float16, DataType.BFloat16]) {
    for (const n of [65536, 1001, 1]) {
      const raw = new Uint8Array(codes.buffer, 2 * (65536 - n), 2 * n);
      const lease = leaseWeights(n)!;
      try {
        const got = lease.widen(dataType, raw);
        assert.equal(got, lease.values, 'widened into the leased values');
        const expected = widenToFloat32(dataType, raw, 0, n);
        const bad = [...got].findIndex((v, i) => !(Object.is(v, expected[i]) || (Number.isNaN(v) && Number.isNaN(expected[i]))));
        assert.equal(bad, -1, `type ${dataType}, ${n} codes: code 0x${(65536 - n + bad).toString(16)}`);
      } finally {
        lease.release();
      }
    }
  }
  const lease = leaseWeights(4)!;
  assert.equal(lease.widen(DataType.Float, new Uint8Array(16)), undefined, 'FLOAT is not widened');
  assert.equal(lease.widen(DataType.Float16, new Uint8Array(6)), undefined, 'three codes are not four weights');
  lease.release();
});
