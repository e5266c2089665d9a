/**
 * Every transform on a small CNN built here: the result is saved, run in onnxruntime-node on a
 * fixed input and compared with the original model's output within the bound each test states;
 * file sizes and the stored weights are checked too.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseModel } from '../../../src/core/onnx/model';
import { encodeMessage } from '../../../src/core/protobuf/encode';
import { concatBytes } from '../../../src/core/bytes';
import { ModelSchema } from '../../../src/core/onnx/schema';
import { readDenseFloat32 } from '../../../src/core/onnx/tensorData';
import { DataType } from '../../../src/core/onnx/dataTypes';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import { maskedView } from '../../../src/transforms/maskedView';
import type { ModelState } from '../../../src/transforms/transform';
import type { StoredTensor } from '../../../src/core/onnx/modelIndex';
import { CNN_INPUT, smallCnn } from '../../helpers/smallModels';
import { applyAndRun, outputSqnr, relativeError, runBytes } from '../../helpers/transformRun';
import { fixedFloats, ort, type Feeds } from '../../helpers/ort';
import { encodeModel, floatTensor, graph as graph_, model as model_, node, valueInfo } from '../../helpers/modelBuilder';

const feeds = (): Feeds => ({ x: new ort.Tensor('float32', fixedFloats(3 * 12 * 12, 7), CNN_INPUT.dims) });
const cnn = smallCnn();
const baseline = runBytes(cnn, feeds());

async function expectOutput(step: Record<string, unknown>, minSqnrDb: number, bytes = cnn) {
  const out = await applyAndRun(bytes, step, feeds());
  const sqnr = outputSqnr((await baseline).y, out.outputs.y);
  assert.ok(sqnr >= minSqnrDb, `output SQNR ${sqnr.toFixed(1)} dB < ${minSqnrDb} dB`);
  return { ...out, sqnr };
}

const weightBytes = (o: { edit: { result: { bytesAfter: number } } }) => o.edit.result.bytesAfter;

test('INT8 per-channel symmetric: output SQNR ≥ 30 dB, weights about a quarter', async () => {
  const o = await expectOutput({ transform: 'quantize', layers: '*', dtype: 'int8', granularity: 'per-channel' }, 30);
  assert.equal(o.edit.result.changed.length, 4);
  assert.ok(weightBytes(o) < o.edit.result.bytesBefore * 0.4, `${weightBytes(o)} of ${o.edit.result.bytesBefore}`);
  assert.ok(o.fileBytes < cnn.length * 0.5);
  const t = o.edit.after.index.tensors.find((x) => x.name === 'conv2.w_quantized');
  assert.equal(t?.dataType, DataType.Int8);
  assert.deepEqual(o.edit.after.index.tensors.find((x) => x.name === 'conv2.w_scale')?.dims, [16]);
});

test('INT8 per-tensor and UINT8 asymmetric per-channel run and stay close', async () => {
  await expectOutput({ transform: 'quantize', dtype: 'int8', granularity: 'per-tensor' }, 25);
  const o = await expectOutput({ transform: 'quantize', dtype: 'uint8', symmetric: false }, 30);
  assert.ok(o.edit.after.index.tensors.some((x) => x.name === 'fc1.w_zero_point' && x.dataType === DataType.Uint8));
});

test('INT4 and UINT4 blocks raise the opset to 21 and stay within 15 dB', async () => {
  const o = await expectOutput({ transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 16 }, 15);
  assert.equal(Number(o.edit.after.proto.opsetImport[0].version), 21);
  assert.ok(weightBytes(o) < o.edit.result.bytesBefore * 0.3);
  await expectOutput({ transform: 'quantize', dtype: 'uint4', granularity: 'per-channel', symmetric: false }, 12);
});

test('FLOAT16 weights with a Cast back: output SQNR ≥ 60 dB, weights halved', async () => {
  const o = await expectOutput({ transform: 'quantize', dtype: 'float16' }, 60);
  assert.ok(weightBytes(o) < o.edit.result.bytesBefore * 0.6, `${weightBytes(o)} of ${o.edit.result.bytesBefore}`);
});

test('quantizing a Constant-node weight replaces the Constant in place', async () => {
  const bytes = smallCnn({ constantWeight: true });
  const base = await runBytes(bytes, feeds());
  const o = await applyAndRun(bytes, { transform: 'quantize', layers: ['conv2'] }, feeds());
  assert.ok(outputSqnr(base.y, o.outputs.y) >= 30);
  const ops = o.edit.after.proto.graph!.node.map((n) => n.opType);
  assert.ok(!ops.includes('Constant') && ops.includes('DequantizeLinear'));
});

test('an edit leaves the model before it untouched: undo gives the original bytes back', async () => {
  const model = parseModel(cnn);
  const before = stateOf(model.proto, undefined);
  const edit = await applyStep(before, parseStep({ transform: 'cluster', clusters: 4 }));
  assert.notEqual(edit.after.proto, edit.before.proto);
  assert.ok(Buffer.from(concatBytes(encodeMessage(ModelSchema, edit.before.proto).finish())).equals(Buffer.from(cnn)));
});

test('per-channel quantization raises opset 10 to 13, and is refused where an operator has no exact counterpart', async () => {
  const model = parseModel(smallCnn({ opset: 10 }));
  const edit = await applyStep(stateOf(model.proto, undefined), parseStep({ transform: 'quantize', granularity: 'per-channel' }));
  assert.equal(Number(edit.after.proto.opsetImport[0].version), 13);
  assert.equal(Number(edit.after.proto.irVersion), 7);
  assert.equal(edit.result.changed.length, 4);

  // Upsample has no exact counterpart after opset 9; FLOAT16 (a Cast) needs no raise.
  const w = floatTensor('w', [4, 3], Array.from(fixedFloats(12, 2)));
  const scales = floatTensor('scales', [2], [1, 2]);
  const upsampled = encodeModel(
    model_(graph_([node('MatMul', ['x', 'w'], ['m'], 'mm'), node('Upsample', ['m', 'scales'], ['y'], 'up')], [w, scales], [valueInfo('x', 1, [2, 4])], [valueInfo('y', 1, [2, 6])]), 9),
  );
  const s = parseModel(upsampled);
  const refused = await applyStep(stateOf(s.proto, undefined), parseStep({ transform: 'quantize', granularity: 'per-channel' }));
  assert.equal(refused.result.changed.length, 0);
  assert.match(refused.result.skipped[0].reason, /needs opset 13; raising the opset from 9 to 13 would change up: Upsample was removed in opset 10/);
  assert.equal(refused.after.proto, s.proto);
  const fp16 = await applyStep(stateOf(s.proto, undefined), parseStep({ transform: 'quantize', dtype: 'float16' }));
  assert.equal(fp16.result.changed.length, 1);
  assert.equal(Number(fp16.after.proto.opsetImport[0].version), 9);
});

/** Pruned weights are stored masked: read them through the dense view later steps see. */
function denseTensor(state: ModelState, name: string): StoredTensor {
  return (maskedView(state)?.state ?? state).index.tensors.find((x) => x.name === name)!;
}

test('magnitude pruning: exact sparsity per layer, a global threshold, honest size estimates', async () => {
  const o = await expectOutput({ transform: 'prune', sparsity: 0.3 }, 8);
  for (const c of o.edit.result.changed) {
    const v = await readDenseFloat32(denseTensor(o.edit.after, c.tensors[0].tensor));
    const zeros = v.filter((x) => x === 0).length;
    assert.equal(zeros, Math.round(0.3 * v.length), c.layer);
    const d = c.tensors[0].detail!;
    // Masked: a bit a weight, the non-zeros after one zero, and a few small constants.
    const masked = Math.ceil(v.length / 8) + (v.length - zeros + 1) * 4;
    assert.equal(d.storage, v.length > 64 ? 'masked' : 'dense', c.layer);
    if (d.storage === 'masked') assert.ok(c.tensors[0].bytesAfter >= masked && c.tensors[0].bytesAfter < masked + 120, `${c.layer} ${c.tensors[0].bytesAfter}`);
    assert.ok((d.sparseBytesAfter as number) < (d.sparseBytesBefore as number));
    assert.ok((d.deflatedBytesAfter as number) < (d.deflatedBytesBefore as number));
  }
  const g = await applyAndRun(cnn, { transform: 'prune', sparsity: 0.5, scope: 'global' }, feeds());
  let zeros = 0;
  let total = 0;
  for (const c of g.edit.result.changed) {
    const v = await readDenseFloat32(denseTensor(g.edit.after, c.tensors[0].tensor));
    zeros += v.filter((x) => x === 0).length;
    total += v.length;
  }
  assert.equal(zeros, Math.round(0.5 * total));
});

test('2:4 pruning keeps at most 2 of every 4 weights along the reduction axis', async () => {
  // Half of every group of these random weights goes: the output only has to stay correlated.
  const o = await expectOutput({ transform: 'prune', pattern: '2:4', layers: ['conv2', 'fc1', 'fc2'] }, 1);
  const conv = await readDenseFloat32(denseTensor(o.edit.after, 'conv2.w'));
  // [16, 8, 3, 3]: groups of 4 input channels at each (out, kh, kw).
  for (let oc = 0; oc < 16; oc++) for (let k = 0; k < 9; k++) for (let g = 0; g < 8; g += 4) {
    let nonzero = 0;
    for (let i = g; i < g + 4; i++) if (conv[(oc * 8 + i) * 9 + k] !== 0) nonzero++;
    assert.ok(nonzero <= 2);
  }
  const skipped = (await applyAndRun(cnn, { transform: 'prune', pattern: '2:4', layers: ['conv1'] }, feeds())).edit.result.skipped;
  assert.match(skipped[0].reason, /3 entries, not a multiple of 4/);
});

test('clustering to 16 shared values: UINT4 indices, a codebook, the file shrinks', async () => {
  const o = await expectOutput({ transform: 'cluster', clusters: 16 }, 15);
  for (const c of o.edit.result.changed) assert.ok((c.tensors[0].sqnrDb ?? 99) > 15, `${c.layer} ${c.tensors[0].sqnrDb}`);
  assert.ok(o.edit.after.index.tensors.some((t) => t.name === 'conv2.w_indices' && t.dataType === DataType.Uint4));
  assert.ok(weightBytes(o) < o.edit.result.bytesBefore * 0.25);
  const o8 = await expectOutput({ transform: 'cluster', clusters: 64, init: 'optimal' }, 25);
  assert.ok(o8.edit.after.index.tensors.some((t) => t.name === 'conv2.w_indices' && t.dataType === DataType.Uint8));
});

test('clustering with keepZero keeps pruned zeros exactly zero', async () => {
  const pruned = await applyAndRun(cnn, { transform: 'prune', sparsity: 0.5 }, feeds());
  const bytes = concatBytes(encodeMessage(ModelSchema, pruned.edit.after.proto).finish());
  const o = await applyAndRun(bytes, { transform: 'cluster', clusters: 8, keepZero: true }, feeds());
  const model = parseModel(bytes);
  const before = await readDenseFloat32(denseTensor(stateOf(model.proto, undefined), 'fc1.w'));
  const codebook = await readDenseFloat32(o.edit.after.index.tensors.find((t) => t.name === 'fc1.w_codebook')!);
  assert.ok(codebook.includes(0));
  assert.ok(outputSqnr(pruned.outputs.y, o.outputs.y) > 10);
  assert.equal(before.filter((v) => v === 0).length, Math.round(0.5 * before.length));
});

test('factorization at full rank reproduces the outputs within 1e-4 relative', async () => {
  const o = await applyAndRun(cnn, { transform: 'factorize', energy: 1, layers: ['fc2'] }, feeds());
  assert.ok(relativeError((await baseline).y, o.outputs.y) <= 1e-4);
});

test('factorization at a lower rank cuts parameters of Conv, Gemm (transB) and MatMul', async () => {
  const o = await expectOutput({ transform: 'factorize', rank: 8 }, 0);
  const names = o.edit.result.changed.map((c) => c.layer).sort();
  // conv1 is 8 × 27: rank 8 would need 280 parameters instead of 216.
  assert.deepEqual(names, ['conv2', 'fc1', 'fc2']);
  assert.match(o.edit.result.skipped.find((s) => s.layer === 'conv1')!.reason, /not fewer/);
  assert.ok(weightBytes(o) < o.edit.result.bytesBefore);
  const full = await applyAndRun(cnn, { transform: 'factorize', energy: 1 }, feeds());
  assert.ok(relativeError((await baseline).y, full.outputs.y) <= 1e-4 || full.edit.result.changed.length === 0);
});

test('each changed weight carries its old and new values on common bins', async () => {
  const { errorOf, CHANGE_BINS } = await import('../../../src/transforms/transform');
  const exact = Float32Array.from([-1, -0.5, 0, 0.25, 0.5, 1, NaN]);
  const approx = [-1, -0.5, 0, 0, 0.5, 2, 0];
  const { histogram: h } = errorOf(exact, approx);
  assert.equal(h.min, -1);
  assert.equal(h.max, 2);
  const bin = (v: number): number => Math.min(CHANGE_BINS - 1, Math.floor(((v + 1) / 3) * CHANGE_BINS));
  const expected = (values: number[]): number[] => {
    const counts = new Array(CHANGE_BINS).fill(0);
    for (const v of values) counts[bin(v)]++;
    return counts;
  };
  assert.deepEqual(h.before, expected([-1, -0.5, 0, 0.25, 0.5, 1]), 'NaN left out');
  assert.deepEqual(h.after, expected(approx));
  const o = await applyAndRun(cnn, { transform: 'cluster', layers: '*', clusters: 4 }, feeds());
  for (const t of o.edit.result.changed.flatMap((c) => c.tensors).filter((t) => t.histogram)) {
    const total = (c: number[]): number => c.reduce((a, b) => a + b, 0);
    assert.equal(total(t.histogram!.after), total(t.histogram!.before), t.tensor);
    assert.ok(t.histogram!.after.filter((c) => c > 0).length <= 4, `${t.tensor}: 4 clusters fill at most 4 bins`);
  }
});
