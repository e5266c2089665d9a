/**
 * The weight-only quantize step end to end, kernel against JavaScript: NaN and infinite weights
 * (FLOAT and FLOAT16, in the vector body or an odd tail) are skipped with the reason, found by
 * the quantizer's own pass, and the largest real model's INT8 per-channel step gives the same
 * model, to the byte, and the same figures with the kernels on and off.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { openModel, parseModel } from '../../../src/core/onnx/model';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import { floatSourceTensor } from '../../../src/transforms/floatSource';
import { useKernels } from '../../../src/analyzers/wasm/kernelSwitch';
import { readRawBytes } from '../../../src/core/onnx/tensorData';
import { encodeModel, graph, model, node, valueInfo } from '../../helpers/modelBuilder';
import { tempDir, thirdPartyModels } from '../../helpers/paths';

const F16 = 10;
const INT8_PER_CHANNEL = { transform: 'quantize', dtype: 'int8', granularity: 'per-channel' };

/** x [1, 64] · good [64, 33] and x · bad [64, 33] (a MatMul each), weights of `type`; `bad` holds `value` at `at`. */
function twoMatMuls(type: number, value: number, at: number): Uint8Array {
  const weights = (seed: number): number[] => Array.from({ length: 64 * 33 }, (_, i) => Math.sin(i * 0.37 + seed) * 0.2);
  const bad = weights(2);
  bad[at] = value;
  const g = graph(
    [node('MatMul', ['x', 'good'], ['y1'], 'fc_good'), node('MatMul', ['x', 'bad'], ['y2'], 'fc_bad')],
    [floatSourceTensor('good', type as 1, [64, 33], weights(1)), floatSourceTensor('bad', type as 1, [64, 33], bad)],
    [valueInfo('x', type, [1, 64])],
    [valueInfo('y1', type, [1, 33]), valueInfo('y2', type, [1, 33])],
  );
  return encodeModel(model(g, 13));
}

for (const kernels of [true, false]) {
  test(`a weight holding NaN or an infinity is skipped with the reason, its neighbour quantized (FLOAT and FLOAT16, kernels ${kernels ? 'on' : 'off'})`, async () => {
    useKernels(kernels);
    try {
      for (const type of [1, F16]) {
        // 0: the first weight; 1000: a vector body; 64·33 − 1: the last, in the odd tail of its run.
        for (const at of [0, 1000, 64 * 33 - 1]) {
          for (const [value, word] of [[NaN, 'NaN'], [Infinity, 'infinite'], [-Infinity, 'infinite']] as const) {
            const dir = tempDir();
            const state = stateOf(parseModel(twoMatMuls(type, value, at), { dir }).proto, dir);
            const { result } = await applyStep(state, parseStep(INT8_PER_CHANNEL));
            const label = `type ${type}, ${value} at ${at}`;
            assert.deepEqual(result.changed.map((c) => c.layer), ['fc_good'], label);
            assert.equal(result.skipped.length, 1, label);
            assert.equal(result.skipped[0].layer, 'fc_bad', label);
            assert.equal(result.skipped[0].reason, `'bad': it holds ${word} values (a mask or a constant, not weights)`, label);
          }
        }
      }
    } finally {
      useKernels(true);
    }
  });
}

test('ch_PP-OCRv4_rec INT8 per channel: the same model to the byte and the same figures with the kernels on and off', async () => {
  const file = path.join(thirdPartyModels, 'ch_PP-OCRv4_rec_infer.onnx');
  const m = openModel(file);
  const state = stateOf(m.proto, m.dir);
  const fast = await applyStep(state, parseStep(INT8_PER_CHANNEL));
  useKernels(false);
  const plain = await applyStep(state, parseStep(INT8_PER_CHANNEL)).finally(() => useKernels(true));
  assert.ok(fast.result.changed.length > 40, `${fast.result.changed.length} layers changed`);
  assert.deepEqual(fast.after.proto.graph!.node, plain.after.proto.graph!.node);
  const tensors = (e: typeof fast) => e.after.index.tensors;
  assert.equal(tensors(fast).length, tensors(plain).length);
  for (const [i, t] of tensors(fast).entries()) {
    const u = tensors(plain)[i];
    assert.equal(t.name, u.name);
    assert.deepEqual(await readRawBytes(t), await readRawBytes(u), `${t.name}: bytes`);
  }
  const figures = (e: typeof fast) => e.result.changed.flatMap((c) => c.tensors);
  for (const [i, c] of figures(fast).entries()) {
    const d = figures(plain)[i];
    assert.equal(c.tensor, d.tensor);
    assert.equal(c.bytesAfter, d.bytesAfter);
    assert.equal(c.maxError, d.maxError, `${c.tensor}: max error`);
    assert.deepEqual(c.histogram, d.histogram, `${c.tensor}: histogram`);
    // The energies are summed in another order: the SQNR to rounding.
    assert.ok(Math.abs((c.sqnrDb ?? NaN) - (d.sqnrDb ?? NaN)) < 1e-9, `${c.tensor}: SQNR ${c.sqnrDb} vs ${d.sqnrDb}`);
  }
});

test('MatMulNBits refuses a weight it would make bigger (one already in 16 clusters), as the QDQ step does, and says by how much', async () => {
  const m = parseModel(twoMatMuls(1, 0.1, 0));
  const clustered = await applyStep(stateOf(m.proto, m.dir), parseStep({ transform: 'cluster', clusters: 16 }));
  const nbits = await applyStep(clustered.after, parseStep({ transform: 'quantize', dtype: 'int4', format: 'matmulnbits', granularity: 'block', blockSize: 32 }));
  assert.equal(nbits.result.changed.length, 0);
  for (const s of nbits.result.skipped) assert.match(s.reason, /MatMulNBits would take \d+ bytes instead of \d+/, s.reason);
  assert.equal(nbits.result.skipped.length, 2);
});
