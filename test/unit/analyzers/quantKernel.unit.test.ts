/**
 * The WebAssembly quantization kernel against the JavaScript it stands in for (tensorStats.ts's
 * quantizeChunk, which the numpy fixtures check): the same codes counted, the same maximum
 * errors, noise energies equal up to float64 summation order; per tensor, channels as runs
 * (Conv, axis 0) and channels as the last axis (MatMul), across chunk boundaries, on odd lengths,
 * one value, denormals, values at the range's ends and halfway between codes.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { quantizeChunk } from '../../../src/analyzers/tensorStats';
import { AsymmetricMeter, INT4, INT8, QuantErrorMeter, scaleFor } from '../../../src/analyzers/quantize';
import { StatsKernel } from '../../../src/analyzers/wasm/statsKernel';
import { kernelQuantize, type QuantState } from '../../../src/analyzers/wasm/quantKernel';
import { seededRandom } from '../../../src/core/random';

type Channels = { inner: number; size: number } | null;

function stateFor(values: Float32Array, channels: Channels): QuantState {
  let min = Infinity;
  let max = -Infinity;
  for (const x of values) {
    min = Math.min(min, x);
    max = Math.max(max, x);
  }
  if (values.length === 0) min = max = 0;
  const absMax = Math.max(Math.abs(min), Math.abs(max));
  const channelAbsMax = channels ? new Float64Array(channels.size) : null;
  if (channels && channelAbsMax) values.forEach((x, i) => {
    const c = Math.floor(i / channels.inner) % channels.size;
    channelAbsMax[c] = Math.max(channelAbsMax[c], Math.abs(x));
  });
  const meters = (): { int8: QuantErrorMeter; int4: QuantErrorMeter } => ({ int8: new QuantErrorMeter(INT8), int4: new QuantErrorMeter(INT4) });
  return {
    perTensor: meters(),
    asymmetric: { uint8: new AsymmetricMeter(min, max, 255), uint4: new AsymmetricMeter(min, max, 15) },
    perChannel: channels ? meters() : null,
    tensorScale8: scaleFor(absMax, INT8),
    tensorScale4: scaleFor(absMax, INT4),
    channelScale8: channelAbsMax ? Float64Array.from(channelAbsMax, (m) => scaleFor(m, INT8)) : null,
    channelScale4: channelAbsMax ? Float64Array.from(channelAbsMax, (m) => scaleFor(m, INT4)) : null,
    int8Codes: new Float64Array(256),
  };
}

function assertSame(kernel: QuantState, js: QuantState): void {
  const noise = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) <= 1e-12 * Math.max(a, b, 1e-300), `${what}: ${a} vs ${b}`);
  const pairs: [QuantErrorMeter | undefined, QuantErrorMeter | undefined, string][] = [
    [kernel.perTensor.int8, js.perTensor.int8, 'INT8 per tensor'],
    [kernel.perTensor.int4, js.perTensor.int4, 'INT4 per tensor'],
    [kernel.perChannel?.int8, js.perChannel?.int8, 'INT8 per channel'],
    [kernel.perChannel?.int4, js.perChannel?.int4, 'INT4 per channel'],
  ];
  for (const [k, j, what] of pairs) {
    if (!k || !j) continue;
    noise(k.noiseEnergy, j.noiseEnergy, what);
    assert.equal(k.maxAbsError, j.maxAbsError, `${what} max error`);
  }
  noise(kernel.asymmetric.uint8.noiseEnergy, js.asymmetric.uint8.noiseEnergy, 'UINT8');
  noise(kernel.asymmetric.uint4.noiseEnergy, js.asymmetric.uint4.noiseEnergy, 'UINT4');
  assert.deepEqual(Array.from(kernel.int8Codes), Array.from(js.int8Codes), 'INT8 codes');
}

function check(values: Float32Array, channels: Channels, chunk: number): void {
  const js = stateFor(values, channels);
  const kernel = stateFor(values, channels);
  const k = new StatsKernel();
  for (let first = 0; first < values.length || first === 0; first += chunk) {
    const part = values.subarray(first, Math.min(values.length, first + chunk));
    quantizeChunk(part, first, channels, js);
    k.load(part, 16);
    kernelQuantize(k, first, kernel, channels);
    if (values.length === 0) break;
  }
  assertSame(kernel, js);
}

const random = seededRandom(23);
const gaussian = (n: number, scale = 1): Float32Array => Float32Array.from({ length: n }, () => scale * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random()));

test('quant kernel = JavaScript: per tensor, odd length, several chunks', () => check(gaussian(10_007, 0.05), null, 4099));
test('quant kernel = JavaScript: empty', () => check(new Float32Array(0), null, 16));
test('quant kernel = JavaScript: one value', () => check(Float32Array.of(-0.3), null, 16));
test('quant kernel = JavaScript: channel runs (Conv 37×5×3×3), chunks splitting runs', () => check(gaussian(37 * 45, 0.1), { inner: 45, size: 37 }, 1000));
test('quant kernel = JavaScript: channel runs of 1 to 3 values', () => {
  for (const inner of [1, 2, 3]) check(gaussian(7 * inner * 11), { inner, size: 7 }, 50);
});
test('quant kernel = JavaScript: channels on the last axis (MatMul 33×131), chunks splitting rows', () => check(gaussian(33 * 131, 0.02), { inner: 1, size: 131 }, 1000));
test('quant kernel = JavaScript: denormals', () => check(Float32Array.from(gaussian(1001), (x) => x * 1e-39), { inner: 1, size: 13 }, 1001));
test('quant kernel = JavaScript: an all-zero channel and the range ends', () => {
  const v = gaussian(6 * 40);
  v.fill(0, 40, 80);
  v[0] = 3.5;
  v[1] = -3.5;
  check(v, { inner: 40, size: 6 }, 240);
});
test('quant kernel = JavaScript: values halfway between codes (round half to even)', () => {
  // With max |x| = 127, the INT8 scale is 1: x = k + 0.5 sits exactly between two codes.
  const v = Float32Array.from({ length: 1023 }, (_, i) => (i === 0 ? 127 : ((i % 254) - 127) + 0.5));
  check(v, null, 1023);
  check(v, { inner: 1, size: 31 }, 500);
});
