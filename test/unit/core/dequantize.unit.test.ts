/**
 * Statistics of quantized layers describe their real values: (q - zero point) * scale per
 * tensor, per axis and per block, checked element by element against a direct reading of
 * DequantizeLinear's definition, and end to end on a model quantized by our own transform.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dequantizeChunk, dequantizeFits, type LinearDequantize } from '../../../src/analyzers/dequantize';
import { seededRandom } from '../../../src/core/random';
import { ModelSession } from '../../../src/transforms/modelSession';
import { parseStep } from '../../../src/transforms/recipe';
import { encodeMessage } from '../../../src/core/protobuf/encode';
import { concatBytes } from '../../../src/core/bytes';
import { ModelSchema } from '../../../src/core/onnx/schema';
import { parseModel, openModel } from '../../../src/core/onnx/model';
import { analyzeModel } from '../../../src/analyzers/modelAnalysis';
import { tempDir } from '../../helpers/paths';
import { smallCnn } from '../../helpers/smallModels';

/** DequantizeLinear read literally: the scale index of each element from its multi-index. */
function reference(q: Float32Array, dims: number[], p: LinearDequantize): Float32Array {
  const out = new Float32Array(q.length);
  const axis = p.axis < 0 ? p.axis + dims.length : p.axis;
  for (let flat = 0; flat < q.length; flat++) {
    const index: number[] = [];
    let rest = flat;
    for (let d = dims.length - 1; d >= 0; d--) {
      index[d] = rest % dims[d];
      rest = Math.floor(rest / dims[d]);
    }
    let s = 0;
    if (p.scale.length === 1) s = 0;
    else if (p.blockSize === 0) s = index[axis];
    else {
      const scaleDims = dims.map((n, d) => (d === axis ? Math.ceil(n / p.blockSize) : n));
      s = 0;
      for (let d = 0; d < dims.length; d++) s = s * scaleDims[d] + (d === axis ? Math.floor(index[d] / p.blockSize) : index[d]);
    }
    out[flat] = (q[flat] - (p.zeroPoint ? p.zeroPoint[s] : 0)) * p.scale[s];
  }
  return out;
}

test('dequantizeChunk = DequantizeLinear per tensor, per axis and per block, in chunks of any size', () => {
  const random = seededRandom(4);
  const dims = [6, 5, 3];
  const elements = 90;
  const q = Float32Array.from({ length: elements }, () => Math.round(random() * 255) - 128);
  const params = (scaleCount: number, axis: number, blockSize: number, withZero: boolean): LinearDequantize => ({
    kind: 'linear',
    scale: Float32Array.from({ length: scaleCount }, () => 0.001 + random() * 0.05),
    zeroPoint: withZero ? Float32Array.from({ length: scaleCount }, () => Math.round(random() * 20) - 10) : null,
    axis,
    blockSize,
    key: 'test',
  });
  const cases = [params(1, 1, 0, true), params(6, 0, 0, true), params(5, 1, 0, false), params(5, -2, 0, true), params(3, 2, 0, true), params(6 * 2 * 3, 1, 3, true), params(3 * 5 * 3, 0, 2, false)];
  for (const p of cases) {
    assert.ok(dequantizeFits(dims, p.scale.length, p.axis, p.blockSize));
    const want = reference(q, dims, p);
    for (const chunk of [elements, 7, 1, 16]) {
      const got = new Float32Array(elements);
      for (let first = 0; first < elements; first += chunk) {
        const v = q.slice(first, first + chunk);
        dequantizeChunk(v, first, dims, p);
        got.set(v, first);
      }
      assert.deepEqual(Array.from(got), Array.from(want), `axis ${p.axis}, block ${p.blockSize}, ${p.scale.length} scales, chunks of ${chunk}`);
    }
  }
  assert.equal(dequantizeFits(dims, 4, 1, 0), false, 'a scale per axis must match the axis');
  assert.equal(dequantizeFits(dims, 29, 0, 4), false, 'blocks of 4 along 6 make 2 per slice: 30 scales, not 29');
});

test('a layer quantized by our transform reports the statistics of its dequantized weights', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'cnn.onnx');
  fs.writeFileSync(file, smallCnn());
  const original = await analyzeModel(openModel(file), { redundancy: false });
  const session = ModelSession.open(file);
  await session.apply(parseStep({ transform: 'quantize', dtype: 'int8', granularity: 'per-channel' }));
  const edited = await analyzeModel(parseModel(concatBytes(encodeMessage(ModelSchema, session.state.proto).finish())), { redundancy: true });
  let checked = 0;
  for (const layer of edited.layers) {
    const codes = layer.weights.find((w) => w.dataType === 'INT8' && w.stats);
    if (!codes) continue;
    const before = original.layers.find((l) => l.name === layer.name)!.weights.find((w) => w.shape.join() === codes.shape.join())!;
    assert.equal(codes.dequantized, true, `${layer.name}: dequantized`);
    const s = codes.stats!;
    const b = before.stats!;
    // Symmetric per-channel INT8: each value moves by at most half its channel's step (max|w| / 127 / 2).
    const halfStep = Math.max(Math.abs(b.min), Math.abs(b.max)) / 127 / 2;
    assert.ok(Math.abs(s.min - b.min) <= halfStep && Math.abs(s.max - b.max) <= halfStep, `${layer.name}: range ${s.min}…${s.max} vs ${b.min}…${b.max}`);
    assert.ok(Math.abs(s.std - b.std) <= 0.02 * b.std, `${layer.name}: std ${s.std} vs ${b.std}`);
    assert.equal(s.histogram.counts.reduce((a, c) => a + c, 0), codes.elements);
    assert.ok(layer.redundancy && layer.redundancy.int8SqnrDb > 40, `${layer.name}: re-quantizing real values to INT8 loses little (${layer.redundancy?.int8SqnrDb} dB)`);
    checked++;
  }
  assert.ok(checked >= 2, `${checked} quantized layers checked`);
});
