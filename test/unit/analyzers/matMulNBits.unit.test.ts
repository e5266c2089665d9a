/**
 * Quantizing to onnxruntime's MatMulNBits: the packed weight is what the analysis unpacks (the
 * real values the transform reports), onnxruntime's output equals a float MatMul with those
 * values, for 4 and 8 bits, symmetric or not, K not a multiple of the block, Gemm with transB
 * and a bias, and FLOAT16 activations; layers it cannot take are refused with the reason.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { attributeLayers } from '../../../src/analyzers/layers';
import { dequantizeParams } from '../../../src/analyzers/dequantizeParams';
import { readRealFloat32 } from '../../../src/analyzers/realValues';
import { storedAs } from '../../../src/analyzers/storedAs';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import { parseStep, type QuantizeStep } from '../../../src/transforms/recipe';
import { floatSourceTensor } from '../../../src/transforms/floatSource';
import { float16Bits } from '../../../src/core/onnx/halfFloat';
import { floatValues } from '../../../src/eval/floatOutputs';
import { attribute, encodeModel, graph, model, node, valueInfo } from '../../helpers/modelBuilder';
import { fixedFloats, ort } from '../../helpers/ort';
import { outputSqnr } from '../../helpers/transformRun';
import { tempDir } from '../../helpers/paths';

const K = 80; // not a multiple of 32: the last block is padded
const N = 24;

/** x [2, K] → MatMul(W [K, N]) → Relu → y; or Gemm(x, Wᵀ [N, K], b [N]) with transB. */
function layerModel(kind: 'matmul' | 'gemm', type = 1): Uint8Array {
  const w = fixedFloats(K * N, 3).map((v) => v * 0.2);
  const stored = [floatSourceTensor('w', type as 1, kind === 'gemm' ? [N, K] : [K, N], w)];
  const nodes = [];
  if (kind === 'gemm') {
    stored.push(floatSourceTensor('b', type as 1, [N], fixedFloats(N, 4)));
    nodes.push(node('Gemm', ['x', 'w', 'b'], ['h'], 'fc', [attribute('transB', { i: 1, type: 2 })]));
  } else nodes.push(node('MatMul', ['x', 'w'], ['h'], 'fc'));
  nodes.push(node('Relu', ['h'], ['y'], 'relu'));
  return encodeModel(model(graph(nodes, stored, [valueInfo('x', type, [2, K])], [valueInfo('y', type, [2, N])]), 13, { irVersion: 8 }));
}

async function run(file: string, x: Float32Array, half: boolean): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  const feed = half ? new ort.Tensor('float16', Uint16Array.from(x, float16Bits), [2, K]) : new ort.Tensor('float32', x, [2, K]);
  const out = await session.run({ x: feed });
  await session.release();
  return floatValues(out.y.type, out.y.data)!;
}

const CASES = [
  { name: 'INT4 asymmetric, MatMul', kind: 'matmul', step: { dtype: 'int4', symmetric: false, blockSize: 32 } },
  { name: 'INT4 symmetric, MatMul', kind: 'matmul', step: { dtype: 'int4', symmetric: true, blockSize: 16 } },
  { name: 'INT8 asymmetric, MatMul', kind: 'matmul', step: { dtype: 'uint8', symmetric: false, blockSize: 32 } },
  { name: 'INT4, Gemm with transB and a bias', kind: 'gemm', step: { dtype: 'int4', symmetric: false, blockSize: 32 } },
  { name: 'INT4, FLOAT16 activations', kind: 'matmul', type: 10, step: { dtype: 'int4', symmetric: false, blockSize: 32 } },
] as const;

for (const c of CASES) {
  test(`MatMulNBits ${c.name}: the analysis unpacks the reported weight; onnxruntime computes with it`, async () => {
    const dir = tempDir();
    const type = 'type' in c ? c.type : 1;
    const state = stateOf(parseModel(layerModel(c.kind, type), { dir }).proto, dir);
    const edit = await applyStep(state, parseStep({ transform: 'quantize', granularity: 'block', format: 'matmulnbits', ...c.step }));
    assert.equal(edit.result.changed.length, 1, edit.result.skipped.map((s) => s.reason).join('; '));
    const nodes = edit.after.proto.graph!.node;
    assert.equal(nodes[0].opType, 'MatMulNBits');
    assert.equal(nodes[0].domain, 'com.microsoft');
    assert.ok(edit.after.proto.opsetImport.some((o) => o.domain === 'com.microsoft'));
    assert.ok(!edit.after.index.tensors.some((t) => t.name === 'w'), 'the float weight is gone');
    assert.ok(edit.result.bytesAfter < edit.result.bytesBefore * (c.step.dtype === 'int4' ? 0.4 : 0.6));

    // The analysis reads the packed weight back as [N, K]: the very values the transform measured.
    const layer = attributeLayers(edit.after.index).layers.find((l) => l.node.node.opType === 'MatMulNBits')!;
    const b = layer.weights.find((t) => t.dims.length === 3)!;
    const real = await readRealFloat32(b, await dequantizeParams(b, layer.dequantized?.get(b)));
    assert.match(storedAs(layer).label, /block/);
    const original = await (async () => {
      const t = state.index.tensors.find((x) => x.name === 'w')!;
      return readRealFloat32(t, undefined);
    })();
    // Real values [N, K] against the original as [N, K].
    const asNK = c.kind === 'gemm' ? original : Float32Array.from({ length: N * K }, (_, i) => original[(i % K) * N + Math.floor(i / K)]);
    const reported = edit.result.changed[0].tensors[0].sqnrDb!;
    assert.ok(Math.abs(outputSqnr(asNK, real) - reported) < 0.01, `analysis ${outputSqnr(asNK, real)} dB, transform ${reported} dB`);

    // onnxruntime's MatMulNBits against a float layer holding those real values.
    const file = path.join(dir, 'nbits.onnx');
    await saveModel(edit.after, file);
    const asStored = c.kind === 'gemm' ? real : Float32Array.from({ length: K * N }, (_, i) => real[(i % N) * K + Math.floor(i / N)]);
    const reference = parseModel(layerModel(c.kind, type), { dir }).proto;
    const g = reference.graph!;
    const refFile = path.join(dir, 'reference.onnx');
    await saveModel(stateOf({ ...reference, graph: { ...g, initializer: g.initializer.map((t) => (t.name === 'w' ? floatSourceTensor('w', type as 1, [...t.dims!].map(Number), asStored) : t)) } }, dir), refFile);
    const x = fixedFloats(2 * K, 9);
    const half = type === 10;
    const sqnr = outputSqnr(await run(refFile, x, half), await run(file, x, half));
    // accuracy_level 4 quantizes the activations to int8 for the kernel: ~40 dB, not bit-exact.
    assert.ok(sqnr > (half ? 30 : 35), `output SQNR ${sqnr.toFixed(1)} dB against a float layer with the same weights`);
  });
}

test('MatMulNBits refuses Conv layers and blocks under 16, and needs granularity block', async () => {
  const dir = tempDir();
  const state = stateOf(parseModel(layerModel('matmul'), { dir }).proto, dir);
  // A recipe error, not a skip per layer; a step made in code still cannot write one.
  assert.throws(() => parseStep({ transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 8, format: 'matmulnbits' }), /needs 'blockSize' 16 or more, not 8/);
  const small = await applyStep(state, { ...(parseStep({ transform: 'quantize', dtype: 'int4', format: 'matmulnbits' }) as QuantizeStep), blockSize: 8 });
  assert.match(small.result.skipped[0].reason, /16 or more/);
  assert.throws(() => parseStep({ transform: 'quantize', dtype: 'int8', granularity: 'per-channel', format: 'matmulnbits' }), /needs 'granularity' "block"/);
  assert.throws(() => parseStep({ transform: 'quantize', accuracyLevel: 4 }), /applies to 'format' "matmulnbits" only/);
});

test('a layer already MatMulNBits is skipped with its bits and block, not as a foreign op', async () => {
  const dir = tempDir();
  const step = parseStep({ transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 32, format: 'matmulnbits' });
  const once = await applyStep(stateOf(parseModel(layerModel('matmul'), { dir }).proto, dir), step);
  const twice = await applyStep(once.after, step);
  assert.equal(twice.result.changed.length, 0);
  assert.match(twice.result.skipped[0].reason, /^it is already MatMulNBits, 4 bits in blocks of 32 /);
});
