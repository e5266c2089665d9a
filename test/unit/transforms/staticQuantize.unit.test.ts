/**
 * Static QDQ quantization: calibrated in the onnxruntime child process, the result is fused by
 * onnxruntime into integer kernels (checked in the optimized model it writes) and stays within
 * the stated output SQNR of the float model on inputs from the calibration distribution.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseModel, openModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import { entropyThreshold, percentileThreshold, rangeFor } from '../../../src/transforms/calibration';
import { activationParams } from '../../../src/transforms/staticQuantize';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { ortCalibrator } from '../../../src/eval/ortCalibrator';
import { loadCalibrationFeeds } from '../../../src/eval/calibrationData';
import type { TransformServices } from '../../../src/transforms/transform';
import { CNN_INPUT, smallCnn } from '../../helpers/smallModels';
import { fixedFloats, ort } from '../../helpers/ort';
import { tempDir, thirdPartyModels } from '../../helpers/paths';
import { writeNpy } from '../../helpers/npyWrite';
import { textImages } from '../../helpers/textImages';
import { outputSqnr } from '../../helpers/transformRun';

const runner = new OrtProcess();
test.after(() => runner.dispose());

function services(): TransformServices {
  return {
    calibrator: (proto, settings) => {
      const { feeds, description } = loadCalibrationFeeds(proto, settings.data, settings.samples, settings.shapes);
      return ortCalibrator(feeds, description, runner);
    },
  };
}

async function runOptimized(file: string, x: Float32Array): Promise<{ y: Float32Array; ops: string[] }> {
  const optimized = `${file}.optimized.onnx`;
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized });
  const out = await session.run({ x: new ort.Tensor('float32', x, CNN_INPUT.dims) });
  await session.release();
  return { y: out.y.data as Float32Array, ops: openModel(optimized).proto.graph!.node.map((n) => n.opType ?? '') };
}

for (const method of ['minmax', 'percentile', 'entropy'] as const) {
  test(`static INT8 (${method} calibration): integer kernels in onnxruntime, output SQNR ≥ 20 dB`, async () => {
    const dir = tempDir();
    const samples = 8;
    const data = path.join(dir, 'calibration');
    fs.mkdirSync(data);
    writeNpy(path.join(data, 'x.npy'), fixedFloats(samples * 432, 40), [samples, 3, 12, 12]);
    const model = parseModel(smallCnn(), { dir });
    const edit = await applyStep(
      stateOf(model.proto, dir),
      parseStep({ transform: 'quantize', mode: 'static', calibration: { method, data, samples } }),
      undefined,
      services(),
    );
    assert.deepEqual(edit.result.changed.map((c) => c.layer), ['conv1', 'conv2', 'fc1', 'fc2']);
    assert.match(edit.result.notes.join('\n'), /folded 1 BatchNormalization/);
    assert.match(edit.result.notes.join('\n'), new RegExp(`calibrated \\(${method}\\) on 8 samples from calibration`));
    const original = path.join(dir, 'float.onnx');
    fs.writeFileSync(original, smallCnn());
    const quantized = path.join(dir, 'qdq.onnx');
    await saveModel(edit.after, quantized);
    const x = fixedFloats(432, 41); // same distribution as the calibration data, not one of its samples
    const float = await runOptimized(original, x);
    const q = await runOptimized(quantized, x);
    assert.ok(q.ops.includes('QLinearConv'), `no QLinearConv in ${q.ops.join(' ')}`);
    assert.ok(q.ops.some((o) => o === 'QGemm' || o === 'QLinearMatMul' || o === 'MatMulIntegerToFloat'), q.ops.join(' '));
    const sqnr = outputSqnr(float.y, q.y);
    assert.ok(sqnr >= 20, `output SQNR ${sqnr.toFixed(1)} dB`);
  });
}

test('without a calibrator, static quantization skips every layer and says why', async () => {
  const model = parseModel(smallCnn());
  const edit = await applyStep(stateOf(model.proto, undefined), parseStep({ transform: 'quantize', mode: 'static' }));
  assert.equal(edit.result.changed.length, 0);
  assert.match(edit.result.skipped[0].reason, /needs onnxruntime to calibrate/);
  assert.equal(edit.after.proto, model.proto);
});

test('calibration ranges: percentile and entropy clip outliers, min/max does not; zero stays exact', () => {
  // |x| mostly below 1 with a few outliers near 10.
  const bins = 2048;
  const histogram = new Float64Array(bins);
  for (let i = 0; i < 200; i++) histogram[i] = 1000 * Math.exp(-i / 60);
  histogram[2040] = 2;
  const stats = { min: -9.9, max: 10, histogram, histogramMax: 10 };
  assert.deepEqual(rangeFor(stats, { method: 'minmax', percentile: 99.99 }), [-9.9, 10]);
  const p = percentileThreshold(histogram, 10, 99.9);
  assert.ok(p > 0.5 && p < 2, `${p}`);
  const e = entropyThreshold(histogram, 10);
  assert.ok(e < 5, `${e}`);
  const [lo, hi] = rangeFor(stats, { method: 'entropy', percentile: 99.99 });
  assert.ok(lo === -e && hi === e);
  // [-1, 3] over 256 UINT8 codes: both ends come back within half a step, and 0 is a code.
  const { scale, zeroPoint } = activationParams(-1, 3);
  assert.ok(Math.abs(scale - 4 / 255) < 1e-7);
  assert.equal(zeroPoint, 64);
  assert.ok(Math.abs((0 - zeroPoint) * scale - -1) <= scale / 2);
  assert.ok(Math.abs((255 - zeroPoint) * scale - 3) <= scale / 2);
  assert.deepEqual(activationParams(0, 0), { scale: 1, zeroPoint: 0 });
});

test('the onnxruntime process reports a broken model as an error of the job and can be cancelled', async () => {
  const dir = tempDir();
  const bad = path.join(dir, 'bad.onnx');
  fs.writeFileSync(bad, 'not a model');
  await assert.rejects(runner.run({ kind: 'stats', model: bad, feeds: [], outputs: [] }), /onnxruntime/);
  const file = path.join(dir, 'cnn.onnx');
  fs.writeFileSync(file, smallCnn());
  const feeds = Array.from({ length: 400 }, (_, i) => ({ x: { type: 'float32' as const, dims: CNN_INPUT.dims, data: fixedFloats(432, i) } }));
  const controller = new AbortController();
  const job = runner.run({ kind: 'stats', model: file, feeds, outputs: ['y'] }, (done) => done >= 5 && controller.abort(), controller.signal);
  await assert.rejects(job);
  // A new job after a cancelled one starts a fresh process.
  const ok = await runner.run({ kind: 'stats', model: file, feeds: feeds.slice(0, 2), outputs: ['y'] });
  assert.ok(Number.isFinite(ok.stats.y.max));
});

// This small classifier is fragile under full INT8 on synthetic text (weight-only INT8 keeps 61 dB):
// the bound guards the measured 10.9 dB and 7 of 8 decisions.
test('static INT8 on PP-OCR cls (BatchNorms folded, percentile calibration): QLinearConv everywhere, output SQNR ≥ 8 dB, 6 of 8 decisions kept', async () => {
  const dir = tempDir();
  const data = path.join(dir, 'calibration');
  fs.mkdirSync(data);
  writeNpy(path.join(data, 'x.npy'), textImages(8, 48, 192), [8, 3, 48, 192]);
  const source = path.join(thirdPartyModels, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
  const model = openModel(source);
  const edit = await applyStep(
    stateOf(model.proto, model.dir),
    parseStep({ transform: 'quantize', mode: 'static', calibration: { method: 'percentile', data, samples: 8 } }),
    undefined,
    services(),
  );
  assert.match(edit.result.notes.join('\n'), /folded 35 BatchNormalization/);
  const quantized = path.join(dir, 'cls-qdq.onnx');
  await saveModel(edit.after, quantized);
  assert.ok(fs.statSync(quantized).size < model.bytes.length / 2);
  // Eight inputs from the same distribution as the calibration samples, none of them.
  const x = textImages(8, 48, 192, 8);
  const run = async (file: string) => {
    // Written to the test's folder, never beside the shared model.
    const optimized = path.join(dir, `${path.basename(file)}.optimized.onnx`);
    const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'all', optimizedModelFilePath: optimized });
    const y: number[] = [];
    for (let s = 0; s < 8; s++) {
      const out = await session.run({ x: new ort.Tensor('float32', x.subarray(s * 3 * 48 * 192, (s + 1) * 3 * 48 * 192), [1, 3, 48, 192]) });
      y.push(...(Object.values(out)[0].data as Float32Array));
    }
    await session.release();
    return { y: Float32Array.from(y), ops: openModel(optimized).proto.graph!.node.map((n) => n.opType) };
  };
  const float = await run(source);
  const q = await run(quantized);
  assert.ok(q.ops.filter((o) => o === 'QLinearConv').length >= 50);
  const sqnr = outputSqnr(float.y, q.y);
  let agree = 0;
  for (let s = 0; s < 8; s++) if ((float.y[2 * s] > float.y[2 * s + 1]) === (q.y[2 * s] > q.y[2 * s + 1])) agree++;
  assert.ok(sqnr >= 8, `output SQNR ${sqnr.toFixed(1)} dB`);
  assert.ok(agree >= 6, `${agree} of 8 decisions kept`);
});
