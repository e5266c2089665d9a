/**
 * Transforms on FLOAT16, BFLOAT16 and DOUBLE weights, and on already-quantized ones: the error a
 * transform reports is the error of the weight the saved model computes (read back from
 * onnxruntime), kept weights stay bit for bit in their type, and re-quantization works from the
 * real values and replaces the old codes.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { readDenseFloat32 } from '../../../src/core/onnx/tensorData';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import { maskedView } from '../../../src/transforms/maskedView';
import { bfloat16Bits, floatSourceTensor, roundTo, roundUpTo } from '../../../src/transforms/floatSource';
import { float16Bits } from '../../../src/core/onnx/halfFloat';
import type { ModelProto } from '../../../src/core/onnx/proto';
import { encodeModel, graph, model, node, valueInfo } from '../../helpers/modelBuilder';
import { fixedFloats, ort } from '../../helpers/ort';
import { outputSqnr } from '../../helpers/transformRun';
import { tempDir } from '../../helpers/paths';
import { floatValues } from '../../../src/eval/floatOutputs';

const F16 = 10;
const BF16 = 16;
const F64 = 11;

test('BFLOAT16 and FLOAT16 rounding: to nearest even, and up for scales', () => {
  assert.equal(bfloat16Bits(1), 0x3f80);
  assert.equal(bfloat16Bits(1 + 2 ** -8), 0x3f80); // a tie goes to the even mantissa
  assert.equal(bfloat16Bits(1 + 3 * 2 ** -8), 0x3f82);
  assert.equal(bfloat16Bits(-2), 0xc000);
  assert.equal(bfloat16Bits(NaN) & 0x7fc0, 0x7fc0);
  assert.equal(float16Bits(1 + 2 ** -11), 0x3c00);
  assert.equal(roundTo(F16, 0.1), 0.0999755859375);
  assert.equal(roundUpTo(F16, 0.1), 0.10003662109375);
  assert.equal(roundUpTo(F16, 1e-9), 2 ** -24); // the least subnormal, never 0
  assert.equal(roundUpTo(F16, 0.5), 0.5);
});

/** x [1, 64] · W [64, 32] (W stored as `type`, cast to FLOAT when it is BFLOAT16 or DOUBLE) → y; W's value is an output too. */
function matmulModel(type: number): { bytes: Uint8Array; weight: string } {
  const values = fixedFloats(64 * 32, 5).map((v) => v * 0.3);
  const direct = type === F16 || type === 1;
  const io = direct ? type : 1;
  const nodes = direct ? [node('MatMul', ['x', 'w'], ['y'], 'fc')] : [node('Cast', ['w'], ['wf'], 'cast', [{ name: 'to', i: 1, type: 2, floats: [], ints: [], strings: [], tensors: [], graphs: [], typeProtos: [], sparseTensors: [] }]), node('MatMul', ['x', 'wf'], ['y'], 'fc')];
  const g = graph(nodes, [floatSourceTensor('w', type as 1, [64, 32], values)], [valueInfo('x', io, [1, 64])], [valueInfo('y', io, [1, 32])]);
  return { bytes: encodeModel(model(g, 13, { irVersion: 8 })), weight: 'w' };
}

/** Saves a state with `extra` value names as outputs too, and runs it on x. */
async function runWith(proto: ModelProto, dir: string, extra: string[], x: Float32Array, half: boolean): Promise<Record<string, Float32Array>> {
  const file = path.join(dir, `run-${Math.random().toString(36).slice(2)}.onnx`);
  const g = proto.graph!;
  await saveModel({ proto: { ...proto, graph: { ...g, output: [...g.output, ...extra.map((name) => ({ name, metadataProps: [] }))] } }, dir }, file);
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'disabled' });
  const feed = half ? new ort.Tensor('float16', Uint16Array.from(x, float16Bits), [1, 64]) : new ort.Tensor('float32', x, [1, 64]);
  const out = await session.run({ x: feed });
  await session.release();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, floatValues(v.type, v.data)!]));
}

const STEPS = [
  { transform: 'quantize', dtype: 'int8', granularity: 'per-channel' },
  { transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 32, symmetric: false },
  { transform: 'cluster', clusters: 16 },
  { transform: 'quantize', dtype: 'float16' },
];

for (const [type, label] of [[F16, 'FLOAT16'], [BF16, 'BFLOAT16'], [F64, 'DOUBLE']] as const) {
  test(`${label} weights: each transform's reported weight SQNR is that of the weight onnxruntime computes, in the weight's own type`, async () => {
    const dir = tempDir();
    const { bytes, weight } = matmulModel(type);
    const state = stateOf(parseModel(bytes, { dir }).proto, dir);
    const original = await readDenseFloat32(state.index.tensors.find((t) => t.name === weight)!);
    const x = fixedFloats(64, 9);
    const half = type === F16;
    const base = await runWith(state.proto, dir, [], x, half);
    for (const step of STEPS) {
      if (step.dtype === 'float16' && type !== F64) continue; // already 16-bit
      const edit = await applyStep(state, parseStep(step));
      assert.equal(edit.result.changed.length, 1, `${JSON.stringify(step)}: ${edit.result.skipped.map((s) => s.reason).join('; ')}`);
      const change = edit.result.changed[0].tensors[0];
      // onnxruntime-node returns no BFLOAT16 values: read the weight after its (exact) Cast to FLOAT.
      const seen = type === F16 ? weight : 'wf';
      const out = await runWith(edit.after.proto, dir, [seen], x, half);
      const computed = out[seen];
      assert.equal(computed.length, original.length);
      // The weight keeps its type: its value comes back in it, and the output type is unchanged.
      const measured = outputSqnr(original, computed);
      assert.ok(Math.abs(measured - change.sqnrDb!) < 0.01, `${JSON.stringify(step)}: reported ${change.sqnrDb} dB, onnxruntime's weight ${measured} dB`);
      assert.ok(outputSqnr(base.y, out.y) > (step.dtype === 'int4' || step.transform === 'cluster' ? 10 : 30));
      assert.ok(change.bytesAfter < change.bytesBefore);
    }
  });
}

test('FLOAT16 weights get FLOAT16 scales (DequantizeLinear at opset 19+); a BFLOAT16 weight cast to FLOAT gets FLOAT scales that give the Cast\'s output directly', async () => {
  for (const [type, scaleType] of [[F16, F16], [BF16, 1]] as const) {
    const dir = tempDir();
    const state = stateOf(parseModel(matmulModel(type).bytes, { dir }).proto, dir);
    const after = (await applyStep(state, parseStep({ transform: 'quantize', dtype: 'int8' }))).after;
    const scale = after.index.tensors.find((t) => t.name.endsWith('_scale'))!;
    assert.equal(scale.dataType, scaleType);
    const nodes = after.proto.graph!.node;
    if (type === F16) {
      assert.ok(Number(after.proto.opsetImport.find((o) => !o.domain)!.version) >= 19);
      assert.ok(nodes.some((n) => n.opType === 'DequantizeLinear' && n.output[0] === 'w'));
    } else {
      // No rounding to BFLOAT16 and back: the Cast is gone, DequantizeLinear outputs what it gave.
      assert.ok(nodes.some((n) => n.opType === 'DequantizeLinear' && n.output[0] === 'wf'));
      assert.ok(!nodes.some((n) => n.opType === 'Cast'));
      assert.ok(!after.index.tensors.some((t) => t.dataType === BF16));
    }
  }
});

test('a BFLOAT16 weight whose Cast is shared keeps its type: FLOAT scales and a Cast back to BFLOAT16', async () => {
  const dir = tempDir();
  const { bytes } = matmulModel(BF16);
  const proto = parseModel(bytes, { dir }).proto;
  // A second reader of the stored weight keeps the BFLOAT16 value in use.
  const g = proto.graph!;
  const extra = { ...g.node[0], name: 'cast2', output: ['wf2'] };
  const shared = { ...proto, graph: { ...g, node: [...g.node, extra], output: [...g.output, { name: 'wf2', metadataProps: [] }] } };
  const after = (await applyStep(stateOf(shared, dir), parseStep({ transform: 'quantize', dtype: 'int8' }))).after;
  assert.ok(after.proto.graph!.node.some((n) => n.opType === 'Cast' && n.output[0] === 'w'));
  assert.equal(after.index.tensors.find((t) => t.name.endsWith('_scale'))!.dataType, 1);
});

test('pruning DOUBLE and FLOAT16 weights keeps every other weight bit for bit', async () => {
  for (const type of [F64, F16]) {
    const dir = tempDir();
    const state = stateOf(parseModel(matmulModel(type).bytes, { dir }).proto, dir);
    const before = state.index.tensors.find((t) => t.name === 'w')!;
    const edit = await applyStep(state, parseStep({ transform: 'prune', sparsity: 0.5 }));
    // Read through the dense view: the pruned weight may be stored masked.
    const after = (maskedView(edit.after)?.state ?? edit.after).index.tensors.find((t) => t.name === 'w')!;
    assert.equal(after.dataType, type);
    const width = type === F64 ? 8 : 2;
    const a = (before.storage as { bytes: Uint8Array }).bytes;
    const b = (after.storage as { bytes: Uint8Array }).bytes;
    let zeroed = 0;
    for (let i = 0; i < before.elements; i++) {
      const old = a.subarray(i * width, (i + 1) * width);
      const now = b.subarray(i * width, (i + 1) * width);
      if (now.every((x) => x === 0) && !old.every((x) => x === 0)) zeroed++;
      else assert.deepEqual(now, old, `element ${i} changed`);
    }
    assert.equal(zeroed, before.elements / 2);
  }
});

test('re-quantizing INT8 weights to INT4 and to 16 clusters works from their real values and replaces the old codes', async () => {
  const dir = tempDir();
  const state = stateOf(parseModel(matmulModel(1).bytes, { dir }).proto, dir);
  const original = await readDenseFloat32(state.index.tensors.find((t) => t.name === 'w')!);
  const int8 = (await applyStep(state, parseStep({ transform: 'quantize', dtype: 'int8' }))).after;
  const x = fixedFloats(64, 9);
  for (const step of [{ transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 32 }, { transform: 'cluster', clusters: 16 }]) {
    const edit = await applyStep(int8, parseStep(step));
    assert.equal(edit.result.changed.length, 1);
    const change = edit.result.changed[0].tensors[0];
    assert.equal(change.detail?.requantizedFrom, 'INT8 per-channel');
    assert.match(edit.result.notes.join(' '), /re-quantized from the real values/);
    // The INT8 codes and their scale are gone; the new storage is smaller.
    const names = edit.after.index.tensors.map((t) => t.name);
    assert.ok(!names.includes('w_quantized') && !names.includes('w_scale'), names.join(', '));
    assert.ok(edit.result.bytesAfter < edit.result.bytesBefore);
    const out = await runWith(edit.after.proto, dir, ['w'], x, false);
    assert.ok(outputSqnr(original, out.w) > 10);
  }
  // The same INT8 per-channel again would give the same values back: refused, not a silent no-op.
  const again = await applyStep(int8, parseStep({ transform: 'quantize', dtype: 'int8' }));
  assert.equal(again.result.changed.length, 0);
  assert.match(again.result.skipped[0].reason, /stored as INT8 per-channel already/);
  // Pruning needs the float model.
  const prune = await applyStep(int8, parseStep({ transform: 'prune', sparsity: 0.5 }));
  assert.match(prune.result.skipped[0].reason, /already stored as INT8 per-channel/);
});
