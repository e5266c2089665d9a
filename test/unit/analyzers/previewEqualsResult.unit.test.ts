/**
 * What the editor shows before Apply is what Apply gets: for every preset on every layer of the
 * weight-type corpus (FLOAT, FLOAT16, BFLOAT16, DOUBLE, already-quantized) and the real models,
 * the planned bytes equal the applied bytes where the plan says it is exact, and the preview's
 * SQNR is within 0.5 dB of the applied weights' (or below / above it by at most that, when it
 * says it is a lower / upper bound).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { analyzeModel } from '../../../src/analyzers/modelAnalysis';
import { attributeLayers } from '../../../src/analyzers/layers';
import { previewStep } from '../../../src/analyzers/stepPreview';
import { readRealFloat32 } from '../../../src/analyzers/realValues';
import { dequantizeParams } from '../../../src/analyzers/dequantizeParams';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import { layerName } from '../../../src/transforms/targets';
import { plannedBytes } from '../../../src/transforms/plannedBytes';
import type { StoredTensor } from '../../../src/core/onnx/modelIndex';
import { corpusDir, corpusModels } from '../../helpers/dtypeCorpus';
import { PRESETS } from '../../../src/shared/presets';
import { ShownAnalysis } from '../../../src/host/shownAnalysis';
import { formPreview } from '../../../src/host/formPreview';
import { repoRoot } from '../../helpers/paths';

// The editor's presets, plus the settings the presets leave out (asymmetric per tensor, 2:4 on its own).
const STEPS: Record<string, Record<string, unknown>> = {
  ...Object.fromEntries(Object.values(PRESETS).flat().map((p) => [p.label, p.step])),
  'uint4 per-tensor asymmetric': { transform: 'quantize', dtype: 'uint4', granularity: 'per-tensor', symmetric: false },
};

const MODELS = [
  ...corpusModels().map((m) => path.join(corpusDir, m.file)),
  path.join(repoRoot, 'samples/digits-cnn.onnx'),
  path.join(repoRoot, '.cache/models/ch_ppocr_mobile_v2.0_cls_infer.onnx'),
];

for (const file of MODELS) {
  test(`${path.basename(file)}: every preset's planned bytes and preview SQNR match what applying it to each layer gives`, async () => {
    const model = openModel(file);
    const state = stateOf(model.proto, model.dir);
    const layers = attributeLayers(state.index).layers;
    const analysis = await analyzeModel(model);
    const zeros = new Map<StoredTensor, number>();
    const zerosOf = (t: StoredTensor): number | undefined => zeros.get(t);
    for (const l of layers) {
      for (const t of l.weights) {
        if (t.dims.length < 2) continue;
        const v = await readRealFloat32(t, await dequantizeParams(t, l.dequantized?.get(t))).catch(() => undefined);
        if (v) zeros.set(t, v.reduce((n, x) => n + (x === 0 ? 1 : 0), 0));
      }
    }
    const failures: string[] = [];
    for (const [name, json] of Object.entries(STEPS)) {
      const step = parseStep(json);
      for (const [i, layer] of layers.entries()) {
        const label = layerName(layer);
        const [plan] = plannedBytes(state, step, [layer], zerosOf);
        const edit = await applyStep(state, parseStep({ ...json, layers: [label] }));
        const changed = edit.result.changed[0];
        const applied = changed ? { before: sum(changed.tensors, 'bytesBefore'), after: sum(changed.tensors, 'bytesAfter') } : undefined;
        if (plan?.exact) {
          // A planned shrink is an applied one of the same size; a plan of no shrink is a skip or an in-place change.
          const got = applied ?? { before: plan.bytesBefore, after: plan.bytesBefore };
          if (got.after !== plan.bytesAfter || (applied && got.before !== plan.bytesBefore)) {
            failures.push(`${name} on ${label}: planned ${plan.bytesBefore} → ${plan.bytesAfter}, applied ${got.before} → ${got.after}`);
          }
        }
        // Fewer than 64 values: the SQNR moves by a dB with the last bit of a FLOAT16 scale; bytes are still checked.
        if (!changed || Math.max(...layer.weights.map((t) => t.elements)) < 64) continue;
        const measured = Math.min(...changed.tensors.map((t) => t.sqnrDb ?? Infinity));
        const p = previewStep(json, [analysis.layers[i]]);
        if (p.worstSqnrDb === null || !Number.isFinite(measured) || !Number.isFinite(p.worstSqnrDb)) continue;
        const off = p.sqnrKind === 'lower bound' ? p.worstSqnrDb - measured : p.sqnrKind === 'upper bound' ? measured - p.worstSqnrDb : Math.abs(p.worstSqnrDb - measured);
        if (off > 0.5) failures.push(`${name} on ${label}: preview ${p.sqnrKind} ${p.worstSqnrDb.toFixed(2)} dB, applied ${measured.toFixed(2)} dB`);
      }
    }
    assert.deepEqual(failures.slice(0, 15), [], `${failures.length} mismatches`);
  });
}

function sum(tensors: readonly { bytesBefore: number; bytesAfter: number }[], key: 'bytesBefore' | 'bytesAfter'): number {
  return tensors.reduce((n, t) => n + t[key], 0);
}

test("the editor's form preview shows the planned bytes, exact, and Apply gets them", async () => {
  const model = openModel(path.join(repoRoot, 'samples/digits-cnn.onnx'));
  const state = stateOf(model.proto, model.dir);
  const analysis = await analyzeModel(model);
  const shown = new ShownAnalysis(1);
  analysis.layers.forEach((l, i) => shown.add(i, l));
  const layers = attributeLayers(state.index).layers;
  for (const step of [{ transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 32 }, { transform: 'prune', sparsity: 0.5 }]) {
    const reply = formPreview(1, step, '*', shown, analysis.layers, layers, state);
    const edit = await applyStep(state, parseStep(step));
    assert.equal(reply.preview.bytesExact, true);
    assert.equal(reply.preview.bytesAfter, edit.result.changed.flatMap((c) => c.tensors).reduce((n, t) => n + t.bytesAfter, 0));
  }
});
