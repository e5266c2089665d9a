/**
 * Which layers a step can take, and why not in plain words: the form disables what cannot apply
 * by it, so whatever it refuses must be what the transform would skip.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { attributeLayers, type Layer } from '../../../src/analyzers/layers';
import { analyzeModel } from '../../../src/analyzers/modelAnalysis';
import { summarizeModel } from '../../../src/analyzers/modelSummary';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import type { ModelState } from '../../../src/transforms/transform';
import { parseStep } from '../../../src/transforms/recipe';
import { layerName } from '../../../src/transforms/targets';
import { stepFit } from '../../../src/transforms/stepFit';
import { ShownAnalysis } from '../../../src/host/shownAnalysis';
import { formPreview } from '../../../src/host/formPreview';
import { PRESETS } from '../../../src/shared/presets';
import { tempDir } from '../../helpers/paths';
import { smallCnn } from '../../helpers/smallModels';

function cnn(): { state: ModelState; layers: readonly Layer[]; file: string } {
  const file = path.join(tempDir(), 'cnn.onnx');
  fs.writeFileSync(file, smallCnn());
  const m = openModel(file);
  return { state: stateOf(m.proto, m.dir), layers: attributeLayers(m.index).layers, file };
}

const named = (layers: readonly Layer[], ...names: string[]) => layers.filter((l) => names.includes(layerName(l)));

test('the reasons are plain words for the selection', async () => {
  const { state, layers } = cnn();
  assert.equal(stepFit({ transform: 'quantize' }, named(layers, 'bn1', 'fc2.bias'), true).reason, 'no selected layer has a weight matrix (biases and norms are left alone)');
  assert.equal(stepFit({ transform: 'prune', pattern: '2:4' }, named(layers, 'conv1'), true).reason, '2:4 needs a reduction axis that is a multiple of 4, and no selected layer has one');
  assert.deepEqual(stepFit({ transform: 'prune', pattern: '2:4' }, named(layers, 'conv1', 'conv2'), true).layers, ['conv2']);
  assert.equal(stepFit({ transform: 'factorize', energy: 0.9 }, named(layers, 'bn1'), true).reason, 'factorize works on MatMul, Gemm and Conv layers only, and no selected layer is one');
  assert.match(stepFit({ transform: 'factorize', rank: 4096 }, layers, false).reason!, /^rank 4096 would make no layer's weight smaller \(rank r of an m×n weight stores r·\(m\+n\) values\) \(and 2 other layers cannot take it either\)$/);
  assert.deepEqual(stepFit({ transform: 'factorize', rank: 2 }, layers, false).layers, ['conv1', 'conv2', 'fc1', 'fc2']);
  assert.equal(stepFit({ transform: 'cluster', clusters: 256 }, named(layers, 'conv1'), true).reason, "the selected layers' weights have no more values than the 256 clusters");
  assert.match(stepFit({ transform: 'prune', sparsity: 2 }, layers, false).reason!, /'sparsity' must be/);
  assert.equal(stepFit({ transform: 'quantize' }, [], true).reason, 'no layer is selected');

  const quantized = (await applyStep(state, parseStep({ transform: 'quantize' }))).after;
  const again = attributeLayers(quantized.index).layers;
  // Quantize and cluster re-encode INT8 weights from their real values; prune and factorize need the float model.
  assert.deepEqual(stepFit({ transform: 'quantize', dtype: 'int4' }, named(again, 'conv1', 'fc1'), true).layers, ['conv1', 'fc1']);
  assert.deepEqual(stepFit({ transform: 'cluster', clusters: 16 }, named(again, 'conv2', 'fc1'), true).layers, ['conv2', 'fc1']);
  assert.equal(stepFit({ transform: 'prune', sparsity: 0.3 }, named(again, 'conv1', 'fc1'), true).reason, "the selected layers' weights are INT8 per-channel (quantized already); prune needs float weights");
});

test('a preset the form disables for a layer is one the transform skips for it', async () => {
  const { state, layers } = cnn();
  const quantized = (await applyStep(state, parseStep({ transform: 'quantize' }))).after;
  for (const model of [state, quantized]) {
    const modelLayers = attributeLayers(model.index).layers;
    for (const preset of Object.values(PRESETS).flat()) {
      for (const layer of modelLayers) {
        const fit = stepFit(preset.step, [layer], true);
        if (fit.reason === undefined) continue;
        const edit = await applyStep(model, parseStep({ ...preset.step, layers: [layerName(layer)] }));
        assert.equal(edit.result.changed.length, 0, `${preset.label} on ${layerName(layer)}: "${fit.reason}" but the transform changed it`);
      }
    }
  }
  assert.ok(layers.length > 0);
});

test('the form preview counts only layers the step can take; it disables the presets that can take none', async () => {
  const { layers, file } = cnn();
  const model = openModel(file);
  const summary = summarizeModel(model);
  const shown = new ShownAnalysis(0);
  shown.finish(await analyzeModel(model));

  const norms = formPreview(1, { transform: 'quantize' }, ['bn1', 'fc2.bias'], shown, summary.layers, layers);
  assert.equal(norms.cannot, 'no selected layer has a weight matrix (biases and norms are left alone)');
  assert.equal(norms.preview.layers, 0);
  assert.equal(norms.presets.length, PRESETS.quantize.length);
  assert.ok(norms.presets.every((p) => p === norms.cannot));

  const conv1 = formPreview(2, { transform: 'prune', sparsity: 0.5 }, ['conv1'], shown, summary.layers, layers);
  assert.equal(conv1.cannot, undefined);
  assert.equal(conv1.preview.layers, 1);
  // 2:4 cannot group conv1's 3 input channels; the other prune presets can.
  assert.deepEqual(conv1.presets.map((p) => p !== null), PRESETS.prune.map((p) => p.label === '2:4 structured'));

  // Full-rank random weights: factorizing keeps nothing smaller, so the preview changes no layer.
  const factorize = formPreview(3, { transform: 'factorize', energy: 0.95 }, '*', shown, summary.layers, layers);
  assert.equal(factorize.cannot, undefined);
  assert.equal(factorize.preview.layers, 0);
});
