/** NumPy arrays written by numpy itself (fixtures), read back; broken files give clear errors. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseNpy, parseNpz, npyToFloat32 } from '../../../src/core/npy';
import { OnnxError } from '../../../src/core/errors';
import { readJson, repoRoot } from '../../helpers/paths';

const fixtures = path.join(repoRoot, 'test/fixtures');
const expected = readJson<Record<string, { shape: number[]; values: number[] }>>(path.join(fixtures, 'arrays_expected.json'));

test('.npy and .npz (deflated and stored) written by numpy read back exactly', () => {
  const npy = parseNpy(fs.readFileSync(path.join(fixtures, 'arrays.npy')));
  assert.deepEqual(npy.shape, expected.a.shape);
  assert.deepEqual(Array.from(npyToFloat32(npy)), expected.a.values);
  const npz = parseNpz(fs.readFileSync(path.join(fixtures, 'arrays.npz')));
  for (const name of ['a', 'b', 'h']) {
    assert.deepEqual(npz.get(name)!.shape, expected[name].shape, name);
    assert.deepEqual(Array.from(npyToFloat32(npz.get(name)!)), expected[name].values, name);
  }
  assert.equal(npz.get('b')!.dtype, 'int64');
  const stored = parseNpz(fs.readFileSync(path.join(fixtures, 'arrays_stored.npz')));
  assert.deepEqual(Array.from(npyToFloat32(stored.get('a')!)), expected.a.values);
});

test('truncated and foreign files are refused with the reason', () => {
  const bytes = fs.readFileSync(path.join(fixtures, 'arrays.npy'));
  assert.throws(() => parseNpy(bytes.subarray(0, bytes.length - 4)), (e: unknown) => e instanceof OnnxError && /data bytes, its shape needs 24/.test(e.message));
  assert.throws(() => parseNpy(new TextEncoder().encode('hello world')), /not a \.npy array/);
  assert.throws(() => parseNpz(bytes), /not a zip/);
});
