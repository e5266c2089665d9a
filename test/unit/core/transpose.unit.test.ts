/** The blocked transpose against the definition, on shapes that do and do not fill its tiles. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { transposed } from '../../../src/core/transpose';

test('transposed: out[j][i] = a[i][j] for every shape and element type', () => {
  for (const [rows, cols] of [[0, 0], [0, 5], [1, 1], [1, 70], [70, 1], [32, 32], [33, 65], [100, 37], [64, 128]]) {
    for (const Kind of [Float32Array, Float64Array, Int32Array]) {
      const a = new Kind(rows * cols);
      for (let i = 0; i < a.length; i++) a[i] = i * 3 + 1;
      const t = transposed(a, rows, cols);
      assert.equal(t.constructor, Kind);
      assert.equal(t.length, a.length);
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) assert.equal(t[j * rows + i], a[i * cols + j], `[${rows}, ${cols}] at ${i}, ${j}`);
      assert.deepEqual(transposed(t, cols, rows), a, 'twice is the original');
    }
  }
});
