/**
 * graphUpTo: the nodes a set of values depends on, and nothing after them (onnxruntime runs every
 * node a model holds, so GPTQ's calibration runs models cut after the inputs it needs).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { graphUpTo } from '../../../src/core/onnx/graphUpTo';
import { attribute, floatTensor, graph, node, valueInfo } from '../../helpers/modelBuilder';

// x → a → b (· w) → y, with a side branch x → s → t (· v) joining at y, and an unused node u.
const g = graph(
  [
    node('Relu', ['x'], ['a'], 'A'),
    node('Mul', ['a', 'w'], ['b'], 'B'),
    node('Abs', ['x'], ['s'], 'S'),
    node('Mul', ['s', 'v'], ['t'], 'T'),
    node('Add', ['b', 't'], ['y'], 'Y'),
    node('Exp', ['x'], ['u'], 'U'),
  ],
  [floatTensor('w', [4], [1, 2, 3, 4]), floatTensor('v', [4], [1, 2, 3, 4])],
  [valueInfo('x', 1, [4])],
  [valueInfo('y', 1, [4])],
);
const names = (graphProto: ReturnType<typeof graphUpTo>): string[] => graphProto.node.map((n) => n.name ?? '');

test('only the nodes the values need, in their order; inputs kept; the values become the outputs', () => {
  const cut = graphUpTo(g, [valueInfo('b')]);
  assert.deepEqual(names(cut), ['A', 'B']);
  assert.deepEqual(cut.output.map((o) => o.name), ['b']);
  assert.deepEqual(cut.input, g.input);
  assert.deepEqual(cut.initializer.map((t) => t.name), ['w'], 'initializers no kept node reads are dropped');
  assert.deepEqual(names(graphUpTo(g, [valueInfo('a'), valueInfo('t')])), ['A', 'S', 'T']);
  assert.deepEqual(names(graphUpTo(g, [valueInfo('y')])), ['A', 'B', 'S', 'T', 'Y']);
  assert.deepEqual(names(graphUpTo(g, [valueInfo('x')])), [], 'a graph input needs no node');
});

test('with a subgraph anywhere every node stays (its reads of outer values are not on the node)', () => {
  const body = graph([node('Identity', ['u'], ['z'])], [], [], [valueInfo('z')]);
  const withIf = { ...g, node: [...g.node, node('If', ['c'], ['w'], 'I', [attribute('then_branch', { g: body }), attribute('else_branch', { g: body })])] };
  assert.equal(graphUpTo(withIf, [valueInfo('b')]).node.length, withIf.node.length);
});
