/**
 * Small models for transform tests, built in memory: a CNN with the layer kinds transforms
 * treat differently (Conv with bias, BatchNormalization, Gemm with transB, MatMul + Add), with
 * its weights as initializers or as Constant nodes.
 */
import { attribute, encodeModel, floatTensor, graph, model, node, valueInfo } from './modelBuilder';
import { fixedFloats } from './ort';
import type { NodeProto, TensorProto } from '../../src/core/onnx/proto';

export const CNN_INPUT = { name: 'x', dims: [1, 3, 12, 12] };

function weights(name: string, dims: number[], seed: number, scale = 0.5): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  return floatTensor(name, dims, Array.from(fixedFloats(n, seed), (v) => v * scale));
}

function positive(name: string, n: number, seed: number): TensorProto {
  return floatTensor(name, [n], Array.from(fixedFloats(n, seed), (v) => 0.75 + 0.5 * Math.abs(v)));
}

const ints = (name: string, values: number[]) => attribute(name, { ints: values, type: 7 });
const int = (name: string, value: number) => attribute(name, { i: value, type: 2 });

export interface SmallCnnOptions {
  /** Hold the second Conv's weight in a Constant node instead of an initializer. */
  readonly constantWeight?: boolean;
  readonly opset?: number;
}

export function smallCnn(options: SmallCnnOptions = {}): Uint8Array {
  const stored: TensorProto[] = [
    weights('conv1.w', [8, 3, 3, 3], 11),
    weights('conv1.b', [8], 12, 0.1),
    positive('bn1.scale', 8, 13),
    weights('bn1.bias', [8], 14, 0.1),
    weights('bn1.mean', [8], 15, 0.1),
    positive('bn1.var', 8, 16),
    weights('conv2.b', [16], 18, 0.1),
    weights('fc1.w', [32, 16], 19),
    weights('fc1.b', [32], 20, 0.1),
    weights('fc2.w', [32, 24], 21),
    weights('fc2.b', [24], 22, 0.1),
  ];
  const conv2w = weights('conv2.w', [16, 8, 3, 3], 17, 0.2);
  const nodes: NodeProto[] = [];
  if (options.constantWeight) nodes.push(node('Constant', [], ['conv2.w'], 'conv2.w.const', [attribute('value', { t: { ...conv2w, name: undefined }, type: 4 })]));
  else stored.push(conv2w);
  nodes.push(
    node('Conv', ['x', 'conv1.w', 'conv1.b'], ['c1'], 'conv1', [ints('pads', [1, 1, 1, 1]), ints('kernel_shape', [3, 3])]),
    node('BatchNormalization', ['c1', 'bn1.scale', 'bn1.bias', 'bn1.mean', 'bn1.var'], ['b1'], 'bn1'),
    node('Relu', ['b1'], ['r1'], 'relu1'),
    node('Conv', ['r1', 'conv2.w', 'conv2.b'], ['c2'], 'conv2', [ints('pads', [1, 1, 1, 1])]),
    node('Relu', ['c2'], ['r2'], 'relu2'),
    node('GlobalAveragePool', ['r2'], ['p'], 'pool'),
    node('Flatten', ['p'], ['f'], 'flatten'),
    node('Gemm', ['f', 'fc1.w', 'fc1.b'], ['g'], 'fc1', [int('transB', 1)]),
    node('Relu', ['g'], ['gr'], 'relu3'),
    node('MatMul', ['gr', 'fc2.w'], ['m'], 'fc2'),
    node('Add', ['m', 'fc2.b'], ['y'], 'fc2.bias'),
  );
  const g = graph(nodes, stored, [valueInfo('x', 1, CNN_INPUT.dims)], [valueInfo('y', 1, [1, 24])]);
  return encodeModel(model(g, options.opset ?? 13, { irVersion: 7 }));
}
