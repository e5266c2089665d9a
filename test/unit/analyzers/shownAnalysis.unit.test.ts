/**
 * What the editor's webview is sent of an analysis: the table's figures without the chart arrays
 * (tableLayer), replayed in order and in batches to a webview that reloads, the full layer on
 * request, and the form's preview computed on the full analysis the host keeps.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeModel, type ModelAnalysis } from '../../../src/analyzers/modelAnalysis';
import { summarizeModel } from '../../../src/analyzers/modelSummary';
import { previewStep } from '../../../src/analyzers/stepPreview';
import { openModel } from '../../../src/core/onnx/model';
import { ShownAnalysis } from '../../../src/host/shownAnalysis';
import { qualifiedLayerName } from '../../../src/shared/layerName';
import { tableLayer } from '../../../src/shared/tableLayer';
import { thirdPartyModels } from '../../helpers/paths';

const file = path.join(thirdPartyModels, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
let analysis: ModelAnalysis | undefined;
const analyzed = async (): Promise<ModelAnalysis> => (analysis ??= await analyzeModel(openModel(file)));

test('a table layer keeps every figure and drops only the chart arrays', async () => {
  const a = await analyzed();
  let withCurve = 0;
  for (const layer of a.layers) {
    const t = tableLayer(layer);
    assert.equal(t.name, layer.name);
    assert.equal(t.params, layer.params);
    layer.weights.forEach((w, i) => {
      if (!w.stats) return;
      const { histogram, channelRanges, ...figures } = w.stats;
      assert.ok(histogram.counts.length > 0);
      assert.deepEqual(t.weights[i].stats, figures);
      assert.equal('channelRanges' in t.weights[i].stats!, false, `${channelRanges ? 'with' : 'without'} channel ranges`);
      assert.equal('histogram' in t.weights[i].stats!, false);
    });
    if (layer.redundancy?.energyCurve) {
      withCurve++;
      const { energyCurve, ...figures } = layer.redundancy;
      assert.deepEqual(t.redundancy, { ...figures, fullRank: energyCurve.fullRank });
    }
  }
  assert.ok(withCurve > 10, `layers with an energy curve: ${withCurve}`);
  const full = JSON.stringify(a.layers).length;
  const table = JSON.stringify(a.layers.map(tableLayer)).length;
  assert.ok(table < full / 2, `table ${table} bytes vs full ${full}`);
});

test('a reloaded webview is replayed the layers in order, in batches, then the totals; the full layer on request', async () => {
  const a = await analyzed();
  const shown = new ShownAnalysis(7);
  // Layers arrive from several workers in any order.
  const order = a.layers.map((_, i) => i).sort((x, y) => (x % 3) - (y % 3) || y - x);
  for (const i of order.slice(0, 20)) shown.add(i, a.layers[i]);
  const partial = shown.replay();
  assert.equal(shown.done, false);
  assert.deepEqual(partial.map((m) => m.type), ['layers']);
  const sent = partial.flatMap((m) => (m.type === 'layers' ? m.layers.map((l) => l.index) : []));
  assert.deepEqual(sent, [...order.slice(0, 20)].sort((x, y) => x - y));

  shown.finish(a);
  const all = shown.replay();
  assert.equal(shown.done, true);
  assert.equal(all.at(-1)!.type, 'analysis');
  const indices = all.flatMap((m) => (m.type === 'layers' ? m.layers.map((l) => l.index) : []));
  assert.deepEqual(indices, a.layers.map((_, i) => i));
  for (const m of all) if (m.type === 'layers' || m.type === 'analysis') assert.equal(m.version, 7);
  const totals = all.at(-1)!;
  assert.ok(totals.type === 'analysis' && !('layers' in totals.analysis) && totals.analysis.estimates.storedBytes > 0);
  assert.equal(shown.layer(3), a.layers[3]);
});

test('the preview the host computes equals previewStep on the full layers, for all and for a selection', async () => {
  const a = await analyzed();
  const model = openModel(file);
  const summary = summarizeModel(model);
  const shown = new ShownAnalysis(1);
  shown.finish(a);
  for (const step of [{ transform: 'prune', sparsity: 0.5 }, { transform: 'factorize', energy: 0.9 }, { transform: 'quantize', dtype: 'int4' }]) {
    assert.deepEqual(shown.preview(step, '*', summary.layers), previewStep(step, a.layers));
    const some = [a.layers[0], a.layers[5]];
    assert.deepEqual(shown.preview(step, some.map(qualifiedLayerName), summary.layers), previewStep(step, some));
  }
  // Before any layer is in, the preview counts them as not analyzed yet.
  const empty = new ShownAnalysis(2).preview({ transform: 'prune', sparsity: 0.5 }, '*', summary.layers);
  assert.ok(empty.unanalyzed > 0 && empty.worstSqnrDb === null);
});
