/**
 * Structured channel pruning. The pruned model must compute exactly what the original computes
 * when the removed channels contribute nothing: the reference is the original with the weights
 * that read those channels set to zero, run in onnxruntime too.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseModel } from '../../../src/core/onnx/model';
import { readDenseFloat32 } from '../../../src/core/onnx/tensorData';
import { ModelPatch, applyPatch } from '../../../src/transforms/patch';
import { replaceTensorValue } from '../../../src/transforms/weightEdit';
import { floatTensor as buildFloat } from '../../../src/transforms/tensorBuild';
import { encodeMessage } from '../../../src/core/protobuf/encode';
import { concatBytes } from '../../../src/core/bytes';
import { ModelSchema } from '../../../src/core/onnx/schema';
import { attribute, encodeModel, floatTensor, graph, model, node, valueInfo } from '../../helpers/modelBuilder';
import { fixedFloats, ort, type Feeds } from '../../helpers/ort';
import { CNN_INPUT, smallCnn } from '../../helpers/smallModels';
import { applyAndRun, relativeError, runBytes } from '../../helpers/transformRun';
import type { Edit } from '../../../src/transforms/apply';

const ints = (name: string, v: number[]) => attribute(name, { ints: v, type: 7 });
const int = (name: string, i: number) => attribute(name, { i, type: 2 });
const w = (name: string, dims: number[], seed: number) => floatTensor(name, dims, Array.from(fixedFloats(dims.reduce((a, b) => a * b, 1), seed), (v) => v * 0.5));

/** Expand, depthwise, squeeze-and-excitation gate, Concat with a side branch, projection, residual Add. */
function blockModel(): Uint8Array {
  const nodes = [
    node('Conv', ['x', 'a.w', 'a.b'], ['a'], 'expand'),
    node('Relu', ['a'], ['ar'], 'relu_a'),
    node('Conv', ['ar', 'd.w', 'd.b'], ['d'], 'depthwise', [int('group', 16), ints('pads', [1, 1, 1, 1])]),
    node('GlobalAveragePool', ['d'], ['s'], 'se_pool'),
    node('Conv', ['s', 's1.w', 's1.b'], ['s1'], 'se_reduce'),
    node('Relu', ['s1'], ['s1r'], 'se_relu'),
    node('Conv', ['s1r', 's2.w', 's2.b'], ['s2'], 'se_expand'),
    node('HardSigmoid', ['s2'], ['g'], 'se_gate'),
    node('Mul', ['d', 'g'], ['m'], 'se_scale'),
    node('Conv', ['x', 'b.w'], ['b'], 'side'),
    node('Concat', ['m', 'b'], ['c'], 'concat', [int('axis', 1)]),
    node('Conv', ['c', 'o.w', 'o.b'], ['o'], 'project'),
    node('Add', ['o', 'x'], ['r'], 'residual'),
    node('Relu', ['r'], ['y'], 'out'),
  ];
  const stored = [
    w('a.w', [16, 8, 1, 1], 1), w('a.b', [16], 2), w('d.w', [16, 1, 3, 3], 3), w('d.b', [16], 4),
    w('s1.w', [4, 16, 1, 1], 5), w('s1.b', [4], 6), w('s2.w', [16, 4, 1, 1], 7), w('s2.b', [16], 8),
    w('b.w', [4, 8, 1, 1], 9), w('o.w', [8, 20, 1, 1], 10), w('o.b', [8], 11),
  ];
  return encodeModel(model(graph(nodes, stored, [valueInfo('x', 1, [1, 8, 6, 6])], [valueInfo('y', 1, [1, 8, 6, 6])]), 13));
}

/** The original with the weights reading removed channels zeroed: `cuts` maps tensor → (axis, channels). */
async function maskedReference(bytes: Uint8Array, cuts: Record<string, { axis: number; channels: number[] }>): Promise<Uint8Array> {
  const m = parseModel(bytes);
  const patch = new ModelPatch();
  for (const [name, { axis, channels }] of Object.entries(cuts)) {
    const t = m.index.tensors.find((x) => x.name === name)!;
    const v = await readDenseFloat32(t);
    const inner = t.dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    for (let i = 0; i < v.length; i++) if (channels.includes(Math.floor(i / inner) % t.dims[axis])) v[i] = 0;
    replaceTensorValue(patch, t, buildFloat(name, t.dims, v));
  }
  return concatBytes(encodeMessage(ModelSchema, applyPatch(m.proto, patch)).finish());
}

/** The output channels a layer lost (its own weight's cut). */
function removedOf(edit: Edit, layer: string, tensor: string): number[] {
  const t = edit.result.changed.find((c) => c.layer === layer)?.tensors.find((x) => x.tensor === tensor);
  assert.ok(t, `${tensor} was cut`);
  return String(t.detail!.removed).split(',').map(Number);
}

const dimsOf = (edit: Edit, name: string) => edit.after.index.tensors.find((t) => t.name === name)?.dims;

test('pruning Conv channels through BatchNormalization into the next Conv matches the masked original', async () => {
  const feeds: Feeds = { x: new ort.Tensor('float32', fixedFloats(3 * 144, 7), CNN_INPUT.dims) };
  const cnn = smallCnn();
  const o = await applyAndRun(cnn, { transform: 'prune', pattern: 'channel', sparsity: 0.25, layers: ['conv1'] }, feeds);
  assert.deepEqual(dimsOf(o.edit, 'conv1.w'), [6, 3, 3, 3]);
  assert.deepEqual(dimsOf(o.edit, 'bn1.var'), [6]);
  assert.deepEqual(dimsOf(o.edit, 'conv2.w'), [16, 6, 3, 3]);
  const removed = removedOf(o.edit, 'conv1', 'conv1.w');
  const reference = await runBytes(await maskedReference(cnn, { 'conv2.w': { axis: 1, channels: removed } }), feeds);
  assert.ok(relativeError(reference.y, o.outputs.y) < 1e-5);
});

test('pruning the last Conv carries through pooling and Flatten into Gemm; a graph output is refused', async () => {
  const feeds: Feeds = { x: new ort.Tensor('float32', fixedFloats(3 * 144, 8), CNN_INPUT.dims) };
  const cnn = smallCnn();
  const o = await applyAndRun(cnn, { transform: 'prune', pattern: 'channel', sparsity: 0.5, norm: 'l2', layers: ['conv2', 'fc1', 'fc2'] }, feeds);
  assert.deepEqual(dimsOf(o.edit, 'conv2.w'), [8, 8, 3, 3]);
  assert.deepEqual(dimsOf(o.edit, 'fc1.w'), [16, 8]);
  assert.deepEqual(dimsOf(o.edit, 'fc2.w'), [16, 24]);
  assert.match(o.edit.result.skipped.find((s) => s.layer === 'fc2')!.reason, /'y' is a graph output/);
  const conv2 = removedOf(o.edit, 'conv2', 'conv2.w');
  const fc1 = removedOf(o.edit, 'fc1', 'fc1.w');
  const reference = await runBytes(
    await maskedReference(cnn, { 'fc1.w': { axis: 1, channels: conv2 }, 'fc2.w': { axis: 0, channels: fc1 } }),
    feeds,
  );
  assert.ok(relativeError(reference.y, o.outputs.y) < 1e-5);
});

test('pruning an expand Conv carries through a depthwise Conv, an SE gate and Concat; a residual is refused', async () => {
  const bytes = blockModel();
  const feeds: Feeds = { x: new ort.Tensor('float32', fixedFloats(8 * 36, 9), [1, 8, 6, 6]) };
  const o = await applyAndRun(bytes, { transform: 'prune', pattern: 'channel', sparsity: 0.25, layers: ['expand', 'side', 'project'] }, feeds);
  assert.deepEqual(dimsOf(o.edit, 'd.w'), [12, 1, 3, 3]);
  assert.deepEqual(dimsOf(o.edit, 's1.w'), [4, 12, 1, 1]);
  assert.deepEqual(dimsOf(o.edit, 's2.w'), [12, 4, 1, 1]);
  assert.deepEqual(dimsOf(o.edit, 'o.w'), [8, 15, 1, 1]);
  const group = o.edit.after.proto.graph!.node.find((n) => n.name === 'depthwise')!.attribute.find((a) => a.name === 'group');
  assert.equal(Number(group!.i), 12);
  assert.match(o.edit.result.skipped.find((s) => s.layer === 'project')!.reason, /residual \(Add\) combines the pruned channels with 'x'/);
  const expand = removedOf(o.edit, 'expand', 'a.w');
  const side = removedOf(o.edit, 'side', 'b.w');
  const reference = await runBytes(
    await maskedReference(bytes, {
      's1.w': { axis: 1, channels: expand },
      'o.w': { axis: 1, channels: [...expand, ...side.map((c) => c + 16)] },
    }),
    feeds,
  );
  assert.ok(relativeError(reference.y, o.outputs.y) < 1e-5, `${relativeError(reference.y, o.outputs.y)}`);
  assert.ok(o.fileBytes < bytes.length);
});
