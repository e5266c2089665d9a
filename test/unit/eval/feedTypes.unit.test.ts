/**
 * A FLOAT16 model against its FLOAT original: each model gets the inputs in its own element type,
 * and outputs of both types are compared (cls_fp16 takes and gives float16; cls_bf16 float).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { feedFor } from '../../../src/eval/feedTypes';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { float16Bits } from '../../../src/core/onnx/halfFloat';
import { repoRoot } from '../../helpers/paths';

const dtypes = path.join(repoRoot, 'test/fixtures/dtypes');
const runner = new OrtProcess();
test.after(() => runner.dispose());

test('feedFor converts floats between float32, float16 and float64, and ids between int64 and int32', () => {
  const x = { type: 'float32' as const, dims: [1, 3], data: Float32Array.from([0.5, -1, 0.1]) };
  const half = feedFor({ x }, { x: 'float16' }, 'm.onnx').x;
  assert.equal(half.type, 'float16');
  assert.deepEqual(Array.from(half.data as Uint16Array), [0.5, -1, 0.1].map(float16Bits));
  const back = feedFor({ x: half }, { x: 'float32' }, 'm.onnx').x;
  assert.deepEqual(Array.from(back.data as Float32Array), [0.5, -1, Math.fround(0.0999755859375)]);
  assert.equal(feedFor({ x }, { x: 'float64' }, 'm.onnx').x.data.constructor, Float64Array);
  const ids = { type: 'int64' as const, dims: [2], data: BigInt64Array.from([3n, 7n]) };
  assert.deepEqual(Array.from(feedFor({ ids }, { ids: 'int32' }, 'm.onnx').ids.data as Int32Array), [3, 7]);
  assert.equal(feedFor({ x }, { x: 'float32' }, 'm.onnx').x, x, 'same type: the same tensor');
});

test('a type that cannot be converted is one line naming the model and the input', () => {
  const x = { type: 'float32' as const, dims: [1], data: Float32Array.from([1]) };
  assert.throws(() => feedFor({ x }, { x: 'int64' }, '/tmp/base.onnx'), { message: "base.onnx takes input 'x' as int64; the data for it are float32" });
});

for (const [candidate, baseline] of [['cls_fp16.onnx', 'cls_bf16.onnx'], ['cls_bf16.onnx', 'cls_fp16.onnx']]) {
  test(`eval ${candidate} against ${baseline} on synthetic inputs: each gets its own input type`, async () => {
    const { result } = await runner.run({
      kind: 'evaluate',
      candidate: path.join(dtypes, candidate),
      baseline: path.join(dtypes, baseline),
      dataset: { kind: 'synthetic', samples: 2, seed: 1, shapes: { x: [1, 3, 48, 192] } },
      batchSize: 1,
      threads: 1,
      optimization: 'all',
    });
    const [t] = result.tasks!;
    assert.equal(t.task, 'classification');
    // The same network in FLOAT16 and BFLOAT16 weights: close, not exact.
    assert.ok(t.sqnr.value > 15 && Number.isFinite(t.sqnr.value), `SQNR ${t.sqnr.value}`);
  });
}
