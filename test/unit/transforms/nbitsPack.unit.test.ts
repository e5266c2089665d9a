/**
 * packNBits' bytes read back by hand: every code, unpacked from B with its block's scale and zero
 * point, gives the restored weight the quantization computed, for K that fills its blocks, K that
 * leaves a padded last block, and odd K (a 4-bit pair split by the end of the row); the padding
 * holds the zero point.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { packNBits } from '../../../src/transforms/nbitsPack';

function zeroPointOf(p: { zeroPoints?: Uint8Array }, bits: number, blocks: number, row: number, block: number): number {
  if (!p.zeroPoints) return 2 ** (bits - 1);
  const rowBytes = Math.ceil((blocks * bits) / 8);
  const bit = block * bits;
  return (p.zeroPoints[row * rowBytes + (bit >> 3)] >> (bit & 7)) & ((1 << bits) - 1);
}

test('B holds each code at its place, the padding at the zero point', () => {
  for (const [k, n, blockSize] of [[64, 5, 32], [80, 3, 32], [37, 4, 16], [45, 2, 32], [1, 3, 16]]) {
    for (const bits of [4, 8] as const) {
      for (const symmetric of [false, true]) {
        const w = Float32Array.from({ length: k * n }, (_, i) => Math.fround(Math.sin(i * 1.7) * 0.3 + (i % 7) * 0.01));
        const p = packNBits(w, k, n, bits, blockSize, symmetric);
        const what = `K ${k}, N ${n}, block ${blockSize}, ${bits} bits, symmetric ${symmetric}`;
        assert.equal(p.b.length, n * p.blocks * p.blobBytes, what);
        for (let row = 0; row < n; row++) {
          for (let kk = 0; kk < p.blocks * blockSize; kk++) {
            const block = Math.floor(kk / blockSize);
            const j = kk % blockSize;
            const byte = p.b[(row * p.blocks + block) * p.blobBytes + Math.floor((j * bits) / 8)];
            const code = (byte >> ((j * bits) % 8)) & ((1 << bits) - 1);
            const zero = zeroPointOf(p, bits, p.blocks, row, block);
            if (kk >= k) {
              assert.equal(code, zero, `${what}: padding at row ${row}, ${kk}`);
              continue;
            }
            const value = Math.fround((code - zero) * p.scales[row * p.blocks + block]);
            assert.equal(value, p.restored[kk * n + row], `${what}: row ${row}, k ${kk}`);
          }
        }
      }
    }
  }
});
