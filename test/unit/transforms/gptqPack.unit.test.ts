/**
 * GPTQ's block-quantized weights stored as MatMulNBits: packed, they are what packNBits writes
 * when GPTQ has nothing to compensate (round-to-nearest), and the codes GPTQ chose otherwise;
 * signed codes and a symmetric pack of asymmetric codes are refused.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { gptqQuantize } from '../../../src/transforms/gptq';
import { HessianAccumulator } from '../../../src/transforms/hessian';
import { packNBits, packQuantizedNBits } from '../../../src/transforms/nbitsPack';

const K = 80; // not a multiple of the block: the last block is padded
const N = 24;
const w = Float32Array.from({ length: K * N }, (_, i) => Math.fround(Math.sin(i * 7.31) * 0.04));

function identity(k: number): Float64Array {
  const h = new Float64Array(k * k);
  for (let i = 0; i < k; i++) h[i * k + i] = 1;
  return h;
}

/** H of inputs whose neighbours share a component (far from diagonal). */
function correlatedHessian(k: number): Float64Array {
  const rows = 3 * k;
  const x = Float32Array.from({ length: rows * k }, (_, i) => Math.sin(i * 0.618 + (i % k) * 0.1) + Math.cos(((i - 1) * 0.618) % 7));
  const acc = new HessianAccumulator(k);
  acc.add(x, rows);
  return acc.finish();
}

/** Codes [N, K] read back from B: low bits first, blocks of `blockSize`. */
function unpack(b: Uint8Array, k: number, n: number, bits: number, blockSize: number): Int32Array {
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const out = new Int32Array(n * k);
  for (let row = 0; row < n; row++) for (let kk = 0; kk < k; kk++) {
    const block = Math.floor(kk / blockSize);
    const j = kk % blockSize;
    const byte = b[(row * blocks + block) * blob + Math.floor((j * bits) / 8)];
    out[row * k + kk] = (byte >> ((j * bits) % 8)) & ((1 << bits) - 1);
  }
  return out;
}

test('with nothing to compensate, the packed GPTQ weight is packNBits\' own, byte for byte', async () => {
  for (const [bits, symmetric] of [[4, false], [4, true], [8, false]] as const) {
    const q = await gptqQuantize(w, K, N, identity(K), { dtype: bits === 4 ? 'uint4' : 'uint8', symmetric, granularity: 'block', blockSize: 32 });
    // The stored bytes and restored values; packNBits' kernel also hands over its error sums.
    const { sums: _sums, ...own } = packNBits(w, K, N, bits, 32, symmetric);
    assert.deepEqual(packQuantizedNBits(q, K, N, bits, 32, symmetric), own, `${bits} bits, symmetric ${symmetric}`);
  }
});

test('a GPTQ weight packs its own codes and scales, and differs from round-to-nearest\'s', async () => {
  const q = await gptqQuantize(w, K, N, correlatedHessian(K), { dtype: 'uint4', symmetric: true, granularity: 'block', blockSize: 16 });
  const packed = packQuantizedNBits(q, K, N, 4, 16, true);
  const codes = unpack(packed.b, K, N, 4, 16);
  for (let kk = 0; kk < K; kk++) for (let j = 0; j < N; j++) assert.equal(codes[j * K + kk], q.codes[kk * N + j]);
  assert.equal(packed.zeroPoints, undefined);
  const blocks = K / 16;
  for (let g = 0; g < blocks; g++) for (let j = 0; j < N; j++) assert.equal(packed.scales[j * blocks + g], q.scales[g * N + j]);
  assert.equal(packed.restored, q.restored);
  assert.notDeepEqual(packed.b, packNBits(w, K, N, 4, 16, true).b);
});

test('signed codes, and asymmetric ones packed as symmetric, are refused', async () => {
  const signed = await gptqQuantize(w, K, N, identity(K), { dtype: 'int4', symmetric: true, granularity: 'block', blockSize: 32 });
  assert.throws(() => packQuantizedNBits(signed, K, N, 4, 32, true), /codes 0…15/);
  const asymmetric = await gptqQuantize(w, K, N, identity(K), { dtype: 'uint4', symmetric: false, granularity: 'block', blockSize: 32 });
  assert.throws(() => packQuantizedNBits(asymmetric, K, N, 4, 32, true), /every zero point at 8/);
  assert.throws(() => packQuantizedNBits(asymmetric, K, N, 4, 16, false), /120 block scales needed, got 1920 and 72/);
});
