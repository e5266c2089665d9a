/** Masked storage: the chain rebuilds exactly the stored weight in onnxruntime, for every float type, and is folded at load. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DataType } from '../../../src/core/onnx/dataTypes';
import { parseModel } from '../../../src/core/onnx/model';
import { stateOf } from '../../../src/transforms/stateOf';
import { NameAllocator } from '../../../src/transforms/names';
import { maskedWeight, nonZeroMask, maskedOpset } from '../../../src/transforms/maskedStorage';
import { floatBytes, floatSourceTensor, type FloatSource } from '../../../src/transforms/floatSource';
import { readDenseFloat32 } from '../../../src/core/onnx/tensorData';
import { attribute, encodeModel, graph, model, node, valueInfo } from '../../helpers/modelBuilder';
import { ort } from '../../helpers/ort';
import { tempDir } from '../../helpers/paths';

/** Weights with zeros at every third place, plus the edge cases. */
function weights(n: number, kind: 'some' | 'none' | 'all'): number[] {
  return Array.from({ length: n }, (_, i) => (kind === 'all' || (kind === 'some' && i % 3 === 0) ? 0 : Math.PI * (i + 1) * (i % 2 ? -1 : 1) / 7));
}

/** A model whose only output is the weight rebuilt by the chain (cast to FLOAT unless DOUBLE). */
async function rebuild(dataType: FloatSource, dims: number[], values: number[]): Promise<{ file: string; dense: Uint8Array; out: Float32Array | Float64Array }> {
  const dense = floatSourceTensor('w', dataType, dims, values);
  const raw = dense.rawData!;
  const empty = encodeModel(model(graph([], [dense]), maskedOpset(dataType)));
  const { index } = stateOf(parseModel(empty).proto, undefined);
  const widened = await readDenseFloat32(index.tensors[0]);
  const plan = maskedWeight(new NameAllocator(index), 'w', dataType, dims, raw, widened, floatBytes(dataType));
  const outType = dataType === DataType.Double ? DataType.Double : DataType.Float;
  const nodes = [...plan.nodes];
  if (dataType !== outType) nodes.push(node('Cast', ['w'], ['y'], 'cast', [attribute('to', { i: outType, type: 2 })]));
  else nodes.push(node('Identity', ['w'], ['y'], 'id'));
  const file = path.join(tempDir(), 'masked.onnx');
  fs.writeFileSync(file, encodeModel(model(graph(nodes, plan.stored, [], [valueInfo('y', outType, dims)]), maskedOpset(dataType))));
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'disabled' });
  const out = (await session.run({})).y.data as Float32Array | Float64Array;
  await session.release();
  return { file, dense: raw, out };
}

const TYPES: [string, FloatSource][] = [['FLOAT', DataType.Float], ['FLOAT16', DataType.Float16], ['BFLOAT16', DataType.BFloat16], ['DOUBLE', DataType.Double]];

for (const [typeName, dataType] of TYPES) {
  for (const [dims, kind] of [[[4, 6], 'some'], [[3, 7], 'some'], [[5, 1, 3], 'none'], [[2, 9], 'all'], [[1, 1], 'some']] as const) {
    test(`masked ${typeName} ${dims.join('x')} (${kind} zeros) rebuilds the stored values bit for bit`, async () => {
      const values = weights(dims.reduce((a: number, b) => a * b, 1), kind);
      const { dense, out } = await rebuild(dataType, [...dims], values);
      // The expected values are the dense tensor's own, read back through the same type.
      const expected = await readDenseFloat32(stateOf(parseModel(encodeModel(model(graph([], [floatSourceTensor('w', dataType, [...dims], values)])))).proto, undefined).index.tensors[0]);
      if (dataType === DataType.Double) assert.deepEqual(new Uint8Array(out.buffer, out.byteOffset, out.byteLength), dense);
      else assert.deepEqual(Array.from(out), Array.from(expected));
    });
  }
}

test('the mask has bit i of byte k set for a non-zero element 8k+i', () => {
  assert.deepEqual(Array.from(nonZeroMask(Float32Array.of(1, 0, 0, 2, 0, 0, 0, 0, 0, -3))), [0b1001, 0b10]);
});

test('onnxruntime folds the chain at load: its optimized model holds the weight as an initializer', async () => {
  const dims = [64, 64];
  const { file } = await rebuild(DataType.Float, dims, weights(64 * 64, 'some'));
  const optimized = path.join(path.dirname(file), 'optimized.onnx');
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'extended', optimizedModelFilePath: optimized });
  await session.release();
  const ops = parseModel(new Uint8Array(fs.readFileSync(optimized))).proto.graph!.node.map((n) => n.opType);
  for (const op of ['BitShift', 'Mod', 'CumSum', 'Gather']) assert.ok(!ops.includes(op), `${op} left in ${ops.join(', ')}`);
});
