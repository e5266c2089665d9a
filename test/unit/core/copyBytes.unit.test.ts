/**
 * copyBytes: the copy out of shared memory at an offset not co-aligned with the target's (staged
 * through a small buffer) gives the same bytes as a plain set, for every relative alignment and
 * for lengths around the stage's size.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { copyBytes } from '../../../src/core/bytes';

function pattern(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 131 + 7) & 0xff;
  return out;
}

test('copyBytes from a SharedArrayBuffer = set, at every relative alignment and across stage boundaries', () => {
  const source = new Uint8Array(new SharedArrayBuffer(200_000));
  source.set(pattern(source.length));
  for (const length of [0, 1, 255, 256, 257, 65_535, 65_536, 65_537, 150_001]) {
    for (let from = 0; from < 9; from++) {
      for (let at = 0; at < 9; at++) {
        const src = source.subarray(from, from + length);
        const got = new Uint8Array(length + 16).fill(0xee);
        copyBytes(got.subarray(3), src, at);
        const want = new Uint8Array(length + 16).fill(0xee);
        want.subarray(3).set(src, at);
        assert.deepEqual(got, want, `length ${length}, source offset ${from}, target offset ${at}`);
      }
    }
  }
});

test('copyBytes from ordinary memory is a plain set', () => {
  const src = pattern(1000).subarray(3);
  const got = new Uint8Array(1001);
  copyBytes(got, src, 4);
  assert.deepEqual(got.subarray(4), src);
});
