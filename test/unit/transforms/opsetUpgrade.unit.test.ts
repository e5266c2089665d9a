/**
 * Raising the opset rewrites the operators that changed on the way (attributes that became
 * inputs, Softmax's old 2-D view, Resize-10's coordinates): onnxruntime gives the same outputs
 * before and after, to the bit.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { ModelPatch, applyPatch } from '../../../src/transforms/patch';
import { NameAllocator } from '../../../src/transforms/names';
import { planOpsetRaise } from '../../../src/transforms/opsetUpgrade';
import { attribute, encodeModel, floatTensor, graph, model, node, valueInfo } from '../../helpers/modelBuilder';
import { fixedFloats, ort, runModel } from '../../helpers/ort';
import { tempDir } from '../../helpers/paths';

const ints = (name: string, v: number[]) => attribute(name, { ints: v, type: 7 });
const float = (name: string, f: number) => attribute(name, { f, type: 1 });
const int = (name: string, i: number) => attribute(name, { i, type: 2 });
const text = (name: string, s: string) => attribute(name, { s: new TextEncoder().encode(s), type: 3 });

function opset9Model(): Uint8Array {
  const nodes = [
    node('Clip', ['x'], ['a'], 'clip', [float('min', -0.5), float('max', 0.5)]),
    node('Softmax', ['a'], ['b'], 'softmax', [int('axis', 1)]),
    node('ReduceMean', ['b'], ['c'], 'mean', [ints('axes', [2]), int('keepdims', 1)]),
    node('Squeeze', ['c'], ['d'], 'squeeze', [ints('axes', [2])]),
    node('Unsqueeze', ['d'], ['e'], 'unsqueeze', [ints('axes', [0])]),
    node('Pad', ['e'], ['f'], 'pad', [ints('pads', [0, 0, 1, 0, 0, 1]), float('value', 0.25)]),
    node('Slice', ['f'], ['g'], 'slice', [ints('starts', [1]), ints('ends', [4]), ints('axes', [2])]),
    node('Dropout', ['g'], ['h'], 'dropout', [float('ratio', 0.3)]),
    node('Split', ['h'], ['s1', 's2'], 'split', [int('axis', 1), ints('split', [1, 1])]),
    node('Add', ['s1', 's2'], ['y'], 'add'),
    node('ReduceSum', ['b'], ['y2'], 'sum', [ints('axes', [1]), int('keepdims', 0)]),
  ];
  const g = graph(nodes, [], [valueInfo('x', 1, [2, 3, 4])], [valueInfo('y', 1, [1, 1, 3]), valueInfo('y2', 1, [2, 4])]);
  return encodeModel(model(g, 9, { irVersion: 4 }));
}

function resize10Model(mode: string): Uint8Array {
  const g = graph([node('Resize', ['x', 'scales'], ['y'], 'resize', [text('mode', mode)])], [floatTensor('scales', [4], [1, 1, 2, 1.5])], [valueInfo('x', 1, [1, 1, 3, 4])], [
    valueInfo('y', 1, [1, 1, 6, 6]),
  ]);
  return encodeModel(model(g, 10, { irVersion: 5 }));
}

async function raiseAndCompare(bytes: Uint8Array, from: number, feeds: Record<string, ort.Tensor>) {
  const dir = tempDir();
  const original = path.join(dir, 'old.onnx');
  fs.writeFileSync(original, bytes);
  const m = parseModel(bytes);
  const raise = planOpsetRaise(m.index, from, 21, new NameAllocator(m.index));
  assert.equal(raise.blocker, undefined);
  const patch = new ModelPatch();
  raise.apply(patch, new NameAllocator(m.index));
  const upgraded = path.join(dir, 'new.onnx');
  const proto = applyPatch(m.proto, patch);
  await saveModel({ proto }, upgraded);
  assert.equal(Number(proto.opsetImport[0].version), 21);
  assert.equal(Number(proto.irVersion), 10);
  const before = await runModel(original, feeds);
  const after = await runModel(upgraded, feeds);
  for (const name of Object.keys(before)) assert.deepEqual(Array.from(after[name]), Array.from(before[name]), name);
  return proto;
}

test('raising opset 9 to 21 rewrites changed operators and keeps every output bit for bit', async () => {
  const proto = await raiseAndCompare(opset9Model(), 9, { x: new ort.Tensor('float32', fixedFloats(24, 9).map((v) => v * 2), [2, 3, 4]) });
  const ops = proto.graph!.node.map((n) => n.opType);
  assert.ok(ops.includes('Flatten') && ops.includes('Reshape'), 'Softmax over a rank-3 input keeps its 2-D view');
  assert.ok(proto.graph!.node.every((n) => !n.attribute.some((a) => ['axes', 'pads', 'starts', 'split', 'min', 'ratio'].includes(a.name ?? ''))));
});

test('Resize-10 keeps its results at opset 21 (asymmetric coordinates, floor rounding)', async () => {
  for (const mode of ['nearest', 'linear']) {
    await raiseAndCompare(resize10Model(mode), 10, { x: new ort.Tensor('float32', fixedFloats(12, 10), [1, 1, 3, 4]) });
  }
});
