/**
 * Why a candidate is slower, read from its graph: weight-only DequantizeLinear nodes counted by
 * the op that reads them, FP16 weights cast back, and the transform that would be faster on
 * onnxruntime (MatMulNBits for MatMul/Gemm, static INT8 for convolutions); none without a cause.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { compareSpeed, slowdownExplanation, speedText, weightWidening } from '../../../src/eval/latencyCause';
import * as path from 'node:path';
import { openModel, parseModel } from '../../../src/core/onnx/model';
import { attribute, encodeModel, floatTensor, graph, model, node, tensor, valueInfo } from '../../helpers/modelBuilder';
import { repoRoot } from '../../helpers/paths';

const INT8 = 3;
function quantizedModel(staticToo: boolean) {
  const w = (name: string, dims: number[]) => tensor(name, INT8, dims, new Uint8Array(dims.reduce((a, b) => a * b, 1)));
  const g = graph(
    [
      ...(staticToo ? [node('QuantizeLinear', ['x', 's', 'z8'], ['xq']), node('DequantizeLinear', ['xq', 's', 'z8'], ['xd'])] : []),
      node('DequantizeLinear', ['conv_q', 's'], ['conv_w']),
      node('Conv', [staticToo ? 'xd' : 'x', 'conv_w'], ['c']),
      node('DequantizeLinear', ['mm_q', 's'], ['mm_w']),
      node('Flatten', ['c'], ['f']),
      node('MatMul', ['f', 'mm_w'], ['y']),
      node('DequantizeLinear', ['mm2_q', 's'], ['mm2_w']),
      node('MatMul', ['y', 'mm2_w'], ['z']),
    ],
    [w('conv_q', [2, 1, 1, 1]), w('mm_q', [8, 4]), w('mm2_q', [4, 4]), floatTensor('s', [], [0.1]), tensor('z8', INT8, [], new Uint8Array(1))],
    [valueInfo('x', 1, [1, 1, 2, 2])],
    [valueInfo('z', 1, [1, 4])],
  );
  return parseModel(encodeModel(model(g, 13))).proto;
}

test('weight-only DequantizeLinear counted by reader; both faster transforms named', () => {
  const w = weightWidening(quantizedModel(false));
  assert.deepEqual(w, { dequantized: { Conv: 1, MatMul: 2 }, casts: 0, staticQuantized: false });
  const why = slowdownExplanation(w)!;
  assert.match(why, /^3 weight-only DequantizeLinear nodes \(2 MatMul, 1 Conv\) widen their weights to float on every inference/);
  assert.match(why, /matmulnbits .* for the MatMul\/Gemm layers \(faster for single-token steps and large layers; on layers ≲ 512 wide or many-token inputs it can be slower than float\); or quantize with mode static/);
});

test('static INT8 already there: MatMulNBits is the remaining suggestion', () => {
  const w = weightWidening(quantizedModel(true));
  assert.equal(w.staticQuantized, true);
  // The Conv's activation is dequantized too (fused); the MatMuls' are not (their weights widen).
  assert.deepEqual(w.dequantized, { MatMul: 2 });
  assert.doesNotMatch(slowdownExplanation(w)!, /mode static/);
});

/** Static INT8 throughout, as quantize mode static writes it: every op's activation, weight and bias behind a DequantizeLinear. */
function staticModel() {
  const u8 = (name: string, dims: number[]) => tensor(name, INT8, dims, new Uint8Array(dims.reduce((a, b) => a * b, 1)));
  const qdq = (x: string) => [node('QuantizeLinear', [x, 's', 'z8'], [`${x}_q`]), node('DequantizeLinear', [`${x}_q`, 's', 'z8'], [`${x}_dq`])];
  const g = graph(
    [
      ...qdq('x'),
      node('DequantizeLinear', ['conv_q', 's'], ['conv_w']),
      node('DequantizeLinear', ['conv_bq', 's'], ['conv_b']),
      node('Conv', ['x_dq', 'conv_w', 'conv_b'], ['c']),
      node('Flatten', ['c'], ['f']),
      ...qdq('f'),
      node('DequantizeLinear', ['mm_q', 's'], ['mm_w']),
      node('MatMul', ['f_dq', 'mm_w'], ['y']),
    ],
    [u8('conv_q', [2, 1, 1, 1]), tensor('conv_bq', 6, [2], new Uint8Array(8)), u8('mm_q', [8, 4]), floatTensor('s', [], [0.1]), tensor('z8', INT8, [], new Uint8Array(1))],
    [valueInfo('x', 1, [1, 1, 2, 2])],
    [valueInfo('y', 1, [1, 4])],
  );
  return parseModel(encodeModel(model(g, 13))).proto;
}

test('static INT8 throughout: weight and bias DequantizeLinear fuse into integer kernels, so they are not blamed', () => {
  const w = weightWidening(staticModel());
  assert.deepEqual(w, { dequantized: {}, casts: 0, staticQuantized: true });
  assert.equal(slowdownExplanation(w), undefined);
  assert.doesNotMatch(speedText(compareSpeed(14, 10, w)!), /matmulnbits|DequantizeLinear/);
});

test('slower, unchanged and faster, with the reason only when slower', () => {
  const w = weightWidening(quantizedModel(false));
  assert.equal(compareSpeed(10, 10.2, w)!.verdict, 'unchanged');
  assert.equal(compareSpeed(5, 10, w)!.verdict, 'faster');
  const slow = compareSpeed(14, 10, w)!;
  assert.equal(slow.verdict, 'slower');
  assert.match(speedText(slow), /^The candidate is 1\.40x slower per batch than the baseline: 3 weight-only DequantizeLinear/);
  const none = compareSpeed(14, 10, { dequantized: {}, casts: 0, staticQuantized: false })!;
  assert.equal(none.why, undefined);
  assert.equal(speedText(none), 'The candidate is 1.40x slower per batch than the baseline.');
});

/** One MatMulNBits layer of K inputs and N outputs (only its attributes matter here). */
function nbitsModel(k: number, n: number) {
  const ints = (name: string, i: number) => attribute(name, { i, type: 2 });
  const g = graph(
    [node('MatMulNBits', ['x', 'b', 's'], ['y'], 'fc', [ints('K', k), ints('N', n), ints('bits', 4), ints('block_size', 32)])],
    [],
    [valueInfo('x', 1, [1, k])],
    [valueInfo('y', 1, [1, n])],
  );
  return parseModel(encodeModel(model(g, 21))).proto;
}

test('MatMulNBits slower than float: says why, with the layer width and the measured figures', () => {
  const w = weightWidening(openModel(path.join(repoRoot, 'test/fixtures/dtypes/mlp_matmulnbits.onnx')).proto);
  // fc1 64→128 and fc2 128→32: widest narrower side 64.
  assert.deepEqual(w.nbits, { count: 2, bits: 4, width: 64 });
  const slow = speedText(compareSpeed(18, 10, w)!);
  assert.match(slow, /^The candidate is 1\.80x slower per batch than the baseline: 2 MatMulNBits layers \(at most 64 wide\) read 1\/8 of float's bytes per weight, but onnxruntime's 4-bit kernels are slower than float GEMM on layers this small \(≲ 512 wide\) and on many-token inputs; they are faster for single-token steps and large layers \(docs\/benchmarks\.md, INT4: [^)]+\)\.$/); // the figures are the benchmark's, re-measured there
  assert.doesNotMatch(slow, /quantize with format matmulnbits/, 'no advice to use what is already there');
  // Large layers: only the many-token cause is said.
  const large = slowdownExplanation(weightWidening(nbitsModel(1024, 4096)))!;
  assert.match(large, /^1 MatMulNBits layer \(at most 1024 wide\) read 1\/8 of float's bytes per weight, but onnxruntime's 4-bit kernels are slower than float GEMM on many-token inputs;/);
  assert.equal(compareSpeed(9, 10, w)!.why, undefined, 'faster: nothing to explain');
});
