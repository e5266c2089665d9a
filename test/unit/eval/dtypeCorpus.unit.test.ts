/**
 * Every preset on every model of the weight-type corpus (FLOAT16, BFLOAT16, DOUBLE weights and
 * already-quantized models): each ends either changed — saved, loaded and run by onnxruntime,
 * with the original's output types and an output SQNR above the stated floor — or refused with
 * a reason for every layer. Never a silent no-op.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { ortCalibrator } from '../../../src/eval/ortCalibrator';
import { loadCalibrationFeeds } from '../../../src/eval/calibrationData';
import type { TransformServices } from '../../../src/transforms/transform';
import { PRESETS, applyPreset, corpusDir, corpusFeeds, corpusModels, runFile } from '../../helpers/dtypeCorpus';

const runner = new OrtProcess();
test.after(() => runner.dispose());
const services: TransformServices = {
  calibrator: (proto, settings) => {
    const { feeds, description } = loadCalibrationFeeds(proto, settings.data, settings.samples, settings.shapes);
    return ortCalibrator(feeds, description, runner);
  },
};

/** Float models: presets that must change something, with their output SQNR floors (dB; measured with margin). */
const FLOORS: Record<string, Record<string, number>> = {
  'cls_fp16.onnx': { 'int8 per-channel': 22, 'int8 per-tensor': 22, 'int4 block 32': 8, 'static int8': 22, 'prune 30%': 1, 'prune 2:4': 5, 'channels 10%': 10, 'cluster 16': 0 },
  'digits_fp16.onnx': { 'int8 per-channel': 45, 'int8 per-tensor': 45, 'int4 block 32': 20, 'static int8': 30, 'prune 30%': 20, 'prune 2:4': 5, 'channels 10%': 20, 'cluster 16': 25 },
  'cls_bf16.onnx': { 'int8 per-channel': 28, 'int8 per-tensor': 20, 'int4 block 32': 14, 'static int8': 23, 'prune 30%': 1, 'prune 2:4': 6, 'cluster 16': 4 },
  'digits_fp64.onnx': { 'int8 per-channel': 45, 'int8 per-tensor': 45, 'int4 block 32': 20, 'float16': 70, 'static int8': 38, 'prune 30%': 20, 'prune 2:4': 5, 'cluster 16': 25 },
  'mlp_float.onnx': { 'int8 per-channel': 38, 'int4 block 32': 10, 'float16': 60, 'static int8': 30, 'cluster 16': 12 },
  'mlp_nbits_float.onnx': { 'int8 per-channel': 37, 'int4 block 32': 14, 'float16': 60, 'static int8': 14, 'cluster 16': 14 },
};

for (const m of corpusModels()) {
  test(`${m.file}: every preset changes the model and runs in onnxruntime, or is refused with reasons`, async () => {
    const base = await runFile(path.join(corpusDir, m.file), corpusFeeds(m));
    const floors = FLOORS[m.file] ?? {};
    for (const [name, step] of Object.entries(PRESETS)) {
      const o = await applyPreset(m, step, base, services);
      if (!o.run) {
        assert.ok(!(name in floors), `${name}: nothing changed (${o.edit.result.skipped.map((s) => s.reason).slice(0, 3).join(' | ')})`);
        assert.ok(o.skippedLayers > 0 && o.edit.result.skipped.every((s) => s.reason.length > 0), `${name}: no layer changed and none refused with a reason`);
        continue;
      }
      assert.deepEqual(o.run.types, base.types, `${name}: output types changed`);
      if (name === 'static int8') {
        // FLOAT16 activations get QDQ pairs onnxruntime cannot fuse: the step says so.
        const said = o.edit.result.notes.some((n) => n.startsWith('FLOAT16 activations'));
        assert.equal(said, m.file.includes('_fp16'), `${name}: the FLOAT16 note on ${m.file}`);
      }
      if (name in floors) assert.ok(o.run.sqnrDb >= floors[name], `${name}: output SQNR ${o.run.sqnrDb.toFixed(1)} dB < ${floors[name]} dB`);
      else assert.ok(Number.isFinite(o.run.sqnrDb) || o.run.sqnrDb === Infinity, `${name}: output is not finite`);
    }
  });
}
