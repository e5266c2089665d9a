/**
 * GPTQ's calibration: the onnxruntime runner's Hessian job gives, for each value, exactly what
 * HessianAccumulator gives on the same rows (every leading index is a row); it refuses inputs
 * wider than 4096. In a CNN, GPTQ takes the Gemm layers (one with transB) and skips the Conv
 * layers with the reason; Hessians gathered a group at a time give the same codes; two layers
 * reading one input share one run and each quantizes with that H (the first is handed a copy,
 * the last the gathered one, which GPTQ overwrites); without a calibrator it skips every layer.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import { HessianAccumulator } from '../../../src/transforms/hessian';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { ortCalibrator } from '../../../src/eval/ortCalibrator';
import { loadCalibrationFeeds } from '../../../src/eval/calibrationData';
import type { Feed } from '../../../src/eval/feed';
import type { TransformServices } from '../../../src/transforms/transform';
import { encodeModel, floatTensor, graph, model, node, valueInfo } from '../../helpers/modelBuilder';
import { smallCnn, CNN_INPUT } from '../../helpers/smallModels';
import { fixedFloats, ort } from '../../helpers/ort';
import { tempDir } from '../../helpers/paths';

const runner = new OrtProcess();
test.after(() => runner.dispose());

/** x [2, 3, K] → Identity → h, and Relu(x) → r: two values whose rows are known. */
function identityModel(dir: string, k: number): string {
  const file = path.join(dir, `identity-${k}.onnx`);
  const g = graph([node('Identity', ['x'], ['h'], 'id'), node('Relu', ['x'], ['r'], 'relu')], [], [valueInfo('x', 1, [2, 3, k])], [valueInfo('h', 1, [2, 3, k]), valueInfo('r', 1, [2, 3, k])]);
  fs.writeFileSync(file, encodeModel(model(g, 13)));
  return file;
}

test("the runner's Hessian of a value is HessianAccumulator's over all its rows", async () => {
  const k = 5;
  const file = identityModel(tempDir(), k);
  const feeds: Feed[] = [1, 2, 3].map((seed) => ({ x: { type: 'float32', dims: [2, 3, k], data: fixedFloats(2 * 3 * k, seed) } }));
  const calibrator = ortCalibrator(feeds, '3 test batches', runner);
  const { hessians, rows } = await calibrator.hessians(file, ['h', 'r']);
  const identity = new HessianAccumulator(k);
  const relu = new HessianAccumulator(k);
  for (const f of feeds) {
    const x = f.x.data as Float32Array;
    identity.add(x, 6);
    relu.add(Float32Array.from(x, (v) => Math.max(0, v)), 6);
  }
  assert.deepEqual(rows, { h: 18, r: 18 });
  assert.deepEqual(Array.from(hessians.h), Array.from(identity.finish()));
  assert.deepEqual(Array.from(hessians.r), Array.from(relu.finish()));
});

test('a Hessian of more than one message (K = 1500: 2.25M values, sent in slices of 2^21) arrives whole, and equals the reference', async () => {
  const k = 1500;
  const file = identityModel(tempDir(), k);
  // Small integers: every sum is exact, so the WebAssembly sums equal the JavaScript reference's to the bit.
  const feeds: Feed[] = [1, 2].map((seed) => ({ x: { type: 'float32', dims: [2, 3, k], data: Float32Array.from(fixedFloats(6 * k, seed), (v) => Math.round(v * 8)) } }));
  const { hessians } = await ortCalibrator(feeds, 'integers', runner).hessians(file, ['h']);
  const reference = new HessianAccumulator(k);
  for (const f of feeds) reference.add(f.x.data as Float32Array, 6);
  const want = reference.finish();
  assert.equal(hessians.h.length, k * k);
  assert.ok(hessians.h.every((v, i) => v === want[i]));
  assert.ok(want[k * k - 1] > 0);
});

test('the Hessian job refuses a value wider than 4096 by name', async () => {
  const k = 4097;
  const file = identityModel(tempDir(), k);
  const calibrator = ortCalibrator([{ x: { type: 'float32', dims: [2, 3, k], data: new Float32Array(6 * k) } }], 'zeros', runner);
  await assert.rejects(calibrator.hessians(file, ['h']), /'h' has 4097 features: Hessians are gathered up to 4096/);
});

test('GPTQ in a CNN: as DequantizeLinear the Conv and Gemm layers (one with transB) change; as MatMulNBits the Convs are skipped with the reason; the model runs', async () => {
  const dir = tempDir();
  const services: TransformServices = {
    calibrator: (proto, settings) => {
      const { feeds, description } = loadCalibrationFeeds(proto, settings.data, settings.samples, settings.shapes);
      return ortCalibrator(feeds, description, runner);
    },
  };
  for (const format of ['qdq', 'matmulnbits'] as const) {
    const m = parseModel(smallCnn(), { dir });
    const step = parseStep({ transform: 'quantize', method: 'gptq', dtype: 'int4', blockSize: 16, format, calibration: { samples: 4 } });
    const edit = await applyStep(stateOf(m.proto, dir), step, undefined, services);
    const qdq = format === 'qdq';
    assert.deepEqual(edit.result.changed.map((c) => c.layer), qdq ? ['conv1', 'conv2', 'fc1', 'fc2'] : ['fc1', 'fc2'], format);
    assert.ok(edit.result.changed.every((c) => c.tensors[0].detail?.method === 'gptq'));
    if (!qdq) for (const conv of ['conv1', 'conv2']) assert.equal(edit.result.skipped.find((s) => s.layer === conv)?.reason, 'a Conv has no MatMulNBits form');
    assert.match(edit.result.notes.join('\n'), new RegExp(`GPTQ calibrated ${qdq ? 4 : 2} layer inputs on 4 `));
    const out = path.join(dir, `gptq-${format}.onnx`);
    await saveModel(edit.after, out);
    const session = await ort.InferenceSession.create(out);
    const y = (await session.run({ x: new ort.Tensor('float32', fixedFloats(432, 9), CNN_INPUT.dims) })).y.data as Float32Array;
    await session.release();
    assert.ok(y.length > 0 && y.every(Number.isFinite));
  }
});

test('GPTQ gathers Hessians in groups under a byte budget: one input a run gives the same codes as all in one run', async () => {
  const dir = tempDir();
  const results = [];
  for (const hessianBudgetBytes of [undefined, 1]) {
    const services: TransformServices = {
      calibrator: (proto, settings) => {
        const { feeds, description } = loadCalibrationFeeds(proto, settings.data, settings.samples, settings.shapes);
        return ortCalibrator(feeds, description, runner);
      },
      hessianBudgetBytes,
    };
    const step = parseStep({ transform: 'quantize', method: 'gptq', dtype: 'int4', blockSize: 16, calibration: { samples: 4 } });
    const edit = await applyStep(stateOf(parseModel(smallCnn(), { dir }).proto, dir), step, undefined, services);
    assert.deepEqual(edit.result.changed.map((c) => c.layer), ['conv1', 'conv2', 'fc1', 'fc2']);
    results.push(edit.result);
  }
  assert.doesNotMatch(results[0].notes.join('\n'), /runs of the model/);
  assert.match(results[1].notes.join('\n'), /GPTQ calibrated 4 layer inputs on 4 .* in 4 runs of the model/);
  assert.deepEqual(results[1].changed, results[0].changed);
});

test('two MatMuls reading one input: one run of the model, the same H for both (the first layer cannot spoil the last one\'s)', async () => {
  const k = 32;
  const n = 8;
  const w = Array.from(fixedFloats(k * n, 5));
  const g = graph(
    [node('MatMul', ['x', 'wa'], ['a'], 'a'), node('MatMul', ['x', 'wb'], ['b'], 'b')],
    [floatTensor('wa', [k, n], w), floatTensor('wb', [k, n], w)],
    [valueInfo('x', 1, [1, k])],
    [valueInfo('a', 1, [1, n]), valueInfo('b', 1, [1, n])],
  );
  // H = BᵀB + I, far from diagonal: an overwritten H (GPTQ leaves its inverse factor there) would change the codes.
  const b = fixedFloats(k * k, 9);
  const h = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let m = 0; m < k; m++) h[i * k + j] += b[m * k + i] * b[m * k + j] + (i === j && m === 0 ? 1 : 0);
  let runs = 0;
  const services: TransformServices = {
    calibrator: () => ({
      description: 'one fixed H',
      collect: () => Promise.reject(new Error('not asked')),
      hessians: async (_file, values) => {
        runs++;
        return { hessians: Object.fromEntries(values.map((v) => [v, Float64Array.from(h)])), rows: Object.fromEntries(values.map((v) => [v, 1])) };
      },
    }),
  };
  const dir = tempDir();
  const step = parseStep({ transform: 'quantize', method: 'gptq', dtype: 'int4', blockSize: 16, calibration: { samples: 1 } });
  const edit = await applyStep(stateOf(parseModel(encodeModel(model(g, 13)), { dir }).proto, dir), step, undefined, services);
  assert.equal(runs, 1);
  const [first, last] = edit.result.changed;
  assert.deepEqual([first.layer, last.layer], ['a', 'b']);
  assert.deepEqual({ ...last.tensors[0], tensor: '' }, { ...first.tensors[0], tensor: '' });
});

test('without a calibrator, GPTQ skips every layer and says why', async () => {
  const m = parseModel(smallCnn());
  const edit = await applyStep(stateOf(m.proto, undefined), parseStep({ transform: 'quantize', method: 'gptq', dtype: 'int4' }));
  assert.equal(edit.result.changed.length, 0);
  assert.ok(edit.result.skipped.length > 0 && edit.result.skipped.every((s) => /GPTQ needs onnxruntime to calibrate/.test(s.reason)));
});
