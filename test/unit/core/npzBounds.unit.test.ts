/**
 * .npz members are inflated only when used and never past the size of the array they declare:
 * an unused (even broken) member costs nothing, and a bomb (a small array header followed by
 * 64 MiB of zeros, or a zip entry that understates its size) is refused by name.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseNpz, npyToFloat32 } from '../../../src/core/npy';
import { OnnxError } from '../../../src/core/errors';
import { npyBytes, zipBytes } from '../../helpers/zipWrite';

const x = npyBytes(Float32Array.from([1, 2, 3, 4]), [2, 2]);

test('members are inflated only when asked for', () => {
  // 'unused' is not a deflate stream at all: reading 'x' must not touch it.
  const npz = parseNpz(zipBytes([{ name: 'x.npy', data: x }, { name: 'unused.npy', data: new Uint8Array(1 << 20), rawStream: Uint8Array.from([0xff, 0xff, 0xff, 0xff]) }]));
  assert.deepEqual([...npz.keys()].sort(), ['unused', 'x']);
  assert.deepEqual(Array.from(npyToFloat32(npz.get('x')!)), [1, 2, 3, 4]);
  assert.throws(() => npz.get('unused'), (e: unknown) => e instanceof OnnxError && /member 'unused.npy' does not inflate/.test(e.message));
});

test('a member that inflates past its array or its declared size is refused', () => {
  const padded = npyBytes(Float32Array.from([1, 2]), [2], 64 << 20);
  const bomb = parseNpz(zipBytes([{ name: 'x.npy', data: padded }]));
  assert.throws(() => bomb.get('x'), (e: unknown) => e instanceof OnnxError && /inflates past the 136 bytes/.test(e.message));
  const lying = parseNpz(zipBytes([{ name: 'y.npy', data: npyBytes(new Float32Array(1 << 24), [1 << 24]), declaredSize: 1000 }]));
  assert.throws(() => lying.get('y'), (e: unknown) => e instanceof OnnxError && /inflates past the 1,000 bytes/.test(e.message));
});

test('two members with one name are refused', () => {
  assert.throws(() => parseNpz(zipBytes([{ name: 'x.npy', data: x }, { name: 'x.npy', data: x }])), /two members named 'x.npy'/);
});
