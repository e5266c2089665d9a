/**
 * MACs from inferred shapes, against MACs computed from the onnx package's own shape inference
 * (test/fixtures/macs_reference.py), on a crafted model and a real one.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { countMacs } from '../../../src/analyzers/macs';
import { inferShapes } from '../../../src/analyzers/shapes';
import { fixtureModels, readJson, repoRoot, tempDir, thirdPartyModels } from '../../helpers/paths';
import { saveModel } from '../../../src/core/onnx/writeModel';
import type { NodeInfo } from '../../../src/core/onnx/modelIndex';
import { ort } from '../../helpers/ort';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import { parseModel } from '../../../src/core/onnx/model';
import { attribute, encodeModel, graph, model as onnxModel, node, tensor, valueInfo } from '../../helpers/modelBuilder';

interface MacsReference {
  dims: Record<string, number>;
  macs: Record<string, number | null>;
}

function ours(file: string, dims: Record<string, number>): Map<string, number | null> {
  const model = openModel(file);
  const report = countMacs(model.index, inferShapes(model.index, { dims: new Map(Object.entries(dims)) }));
  return new Map([...report.perNode].map(([n, m]) => [n.label, m]));
}

test('crafted model: grouped/strided/dilated Conv, ConvTranspose, Gemm transB, attention MatMul, LSTM', () => {
  const ref = readJson<MacsReference>(path.join(fixtureModels, 'macs_mix_expected.json'));
  const got = ours(path.join(fixtureModels, 'macs_mix.onnx'), ref.dims);
  for (const [name, macs] of Object.entries(ref.macs)) assert.equal(got.get(name), macs, name);
  // LSTM by its formula: seq 5 · batch 2 · 2 directions · 4 gates · hidden 3 · (input 2 + hidden 3).
  assert.equal(got.get('lstm'), 5 * 2 * 2 * 4 * 3 * (2 + 3));
});

test('symbolic dims are not guessed: without --dim the layers are unresolved', () => {
  const model = openModel(path.join(fixtureModels, 'macs_mix.onnx'));
  const report = countMacs(model.index, inferShapes(model.index));
  assert.equal(report.total, 0);
  assert.deepEqual(report.unresolved.map((n) => n.label).sort(), ['attention', 'conv', 'deconv', 'fc', 'lstm']);
});

/**
 * MACs of the given MatMul and Conv nodes from the shapes onnxruntime actually produces: their
 * inputs and outputs are exposed as graph outputs of a copy of the model, which is then run.
 */
async function macsFromRuntime(file: string, nodes: NodeInfo[], input: string, shape: number[]): Promise<Map<NodeInfo, number>> {
  const model = openModel(file);
  const exposed = [...new Set(nodes.flatMap((n) => [n.node.input[0], n.node.output[0]]))];
  const graph = model.proto.graph!;
  const proto = { ...model.proto, graph: { ...graph, output: [...graph.output, ...exposed.map((name) => ({ name, metadataProps: [] }))] } };
  const probe = path.join(tempDir(), 'probe.onnx');
  await saveModel({ proto, dir: model.dir }, probe);
  const session = await ort.InferenceSession.create(probe);
  const size = shape.reduce((p, d) => p * d, 1);
  const out = await session.run({ [input]: new ort.Tensor('float32', new Float32Array(size), shape) });
  await session.release();
  const product = (dims: readonly number[]): number => dims.reduce((p, d) => p * d, 1);
  return new Map(
    nodes.map((n) => {
      const y = product(out[n.node.output[0]].dims);
      if (n.node.opType === 'Conv') {
        const w = model.index.tensors.find((t) => t.name === n.node.input[1])!;
        return [n, y * product(w.dims.slice(1))];
      }
      const a = out[n.node.input[0]].dims;
      return [n, y * a[a.length - 1]];
    }),
  );
}

async function checkRealModel(file: string, referenceFile: string, input: string, shape: number[]): Promise<void> {
  const model = openModel(file);
  const ref = readJson<MacsReference>(referenceFile);
  const report = countMacs(model.index, inferShapes(model.index, { inputs: new Map([[input, shape]]) }));
  assert.deepEqual(report.unresolved.map((n) => n.label), [], 'every Conv/Gemm/MatMul resolves');
  // Where the onnx package's shape inference resolves a node, it agrees with ours.
  const byLabel = new Map([...report.perNode].map(([n, m]) => [n.label, m]));
  assert.equal(byLabel.size, Object.keys(ref.macs).length);
  for (const [name, macs] of Object.entries(ref.macs)) if (macs !== null) assert.equal(byLabel.get(name), macs, name);
  // Where it cannot (shapes computed at run time), onnxruntime's real shapes decide.
  const unresolvedByOnnx = [...report.perNode.keys()].filter((n) => ref.macs[n.label] === null);
  assert.ok(unresolvedByOnnx.every((n) => ['MatMul', 'Conv'].includes(n.node.opType ?? '')));
  const runtime = await macsFromRuntime(file, unresolvedByOnnx, input, shape);
  for (const [n, macs] of runtime) assert.equal(report.perNode.get(n), macs, `${n.label} against onnxruntime`);
}

const realModels: [string, string, string, number[]][] = [
  ['PP-OCR direction classifier', 'ch_ppocr_mobile_v2.0_cls_infer.onnx', 'macs-cls-reference.json', [1, 3, 48, 192]],
  // Attention MatMuls behind run-time shape arithmetic that onnx's own inference cannot resolve.
  ['PP-OCRv4 recognizer', 'ch_PP-OCRv4_rec_infer.onnx', 'macs-rec-reference.json', [1, 3, 48, 320]],
];

for (const [title, file, reference, shape] of realModels) {
  test(`${title}: every node matches the onnx package or onnxruntime`, () =>
    checkRealModel(path.join(thirdPartyModels, file), path.join(repoRoot, 'test/fixtures', reference), 'x', shape));
}

/** The GPT fixture's MACs for one window of `seq` tokens, by hand: d 192, 4 blocks, 4 heads, vocabulary 256. */
function gptMacs(seq: number): number {
  const d = 192;
  const perToken = 4 * (d * 3 * d + d * d + d * 4 * d + 4 * d * d) + d * 256; // qkv, proj, up, down; head
  const attention = 4 * 2 * seq * seq * d; // QKᵀ and softmax·V, all heads together
  return seq * perToken + attention;
}

test('a transformer: Range positions, declared symbolic outputs and MatMulNBits/GatherBlockQuantized all resolve', async () => {
  const file = path.join(repoRoot, 'test/fixtures/gpt/tiny-gpt.onnx');
  const inputs = new Map([['input_ids', [1, 64]]]);
  const model = openModel(file);
  const fp32 = countMacs(model.index, inferShapes(model.index, { inputs }));
  assert.deepEqual(fp32.unresolved.map((n) => n.label), []);
  assert.equal(fp32.total, gptMacs(64));
  // The same model with every MatMul as MatMulNBits and the embeddings as GatherBlockQuantized.
  const dir = tempDir('macs-nbits');
  const edit = await applyStep(stateOf(model.proto, dir), parseStep({ transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 32, format: 'matmulnbits' }));
  assert.ok(edit.after.index.nodes.some((n) => n.node.opType === 'GatherBlockQuantized'));
  const nbits = countMacs(edit.after.index, inferShapes(edit.after.index, { inputs }));
  assert.deepEqual(nbits.unresolved.map((n) => n.label), []);
  assert.equal(nbits.total, gptMacs(64));
});

test('shapes through If (both branches agree) and ConstantOfShape reach the MatMul after them', () => {
  const int64 = (values: number[]): Uint8Array => new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
  // Branch outputs declared without a shape, as exporters leave them.
  const untyped = (name: string) => ({ name, type: { tensorType: { elemType: 1 } }, metadataProps: [] });
  const branch = (name: string): ReturnType<typeof graph> => graph([node('Identity', ['x'], [`${name}_y`])], [], [], [untyped(`${name}_y`)]);
  const nodes = [
    node('If', ['cond'], ['picked'], 'if', [attribute('then_branch', { type: 5, g: branch('then') }), attribute('else_branch', { type: 5, g: branch('else') })]),
    node('MatMul', ['picked', 'w'], ['y'], 'fc'),
    // A shape [2, 3] made as values: zeros of shape [2] plus [2, 3].
    node('ConstantOfShape', ['two'], ['zeros'], 'zeros', [attribute('value', { type: 4, t: tensor('v', 7, [1], int64([0])) })]),
    node('Add', ['zeros', 'twothree'], ['dims']),
    node('Reshape', ['flat', 'dims'], ['grid']),
    node('MatMul', ['grid', 'w3'], ['z'], 'grid_fc'),
  ];
  const inits = [
    tensor('w', 1, [4, 5], new Uint8Array(80)), tensor('w3', 1, [3, 7], new Uint8Array(84)),
    tensor('two', 7, [1], int64([2])), tensor('twothree', 7, [2], int64([2, 3])),
  ];
  const inputs = [valueInfo('cond', 9, []), valueInfo('x', 1, [2, 4]), valueInfo('flat', 1, [6])];
  const m = parseModel(encodeModel(onnxModel(graph(nodes, inits, inputs, [untyped('y'), untyped('z')]))));
  const report = countMacs(m.index, inferShapes(m.index));
  const byLabel = new Map([...report.perNode].map(([n, v]) => [n.label, v]));
  assert.equal(byLabel.get('fc'), 2 * 4 * 5);
  assert.equal(byLabel.get('grid_fc'), 2 * 3 * 7);
});
