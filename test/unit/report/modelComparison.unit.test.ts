/** `onnx-compress report MODEL --baseline BASE`: two files compared layer by layer, whatever made them. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { compareModels, UnrelatedModels } from '../../../src/report/modelComparison';
import { fileFigures } from '../../../src/report/sizeFigures';
import { ModelSession } from '../../../src/transforms/modelSession';
import { parseStep } from '../../../src/transforms/recipe';
import { editView } from '../../../src/report/editView';
import { smallCnn } from '../../helpers/smallModels';
import { fixtureModels, repoRoot, tempDir, thirdPartyModels } from '../../helpers/paths';

const cli = path.join(repoRoot, 'dist/cli.js');

async function pair(steps: Record<string, unknown>[]): Promise<{ base: string; model: string; views: ReturnType<typeof editView>[] }> {
  const dir = tempDir();
  const base = path.join(dir, 'base.onnx');
  fs.writeFileSync(base, smallCnn());
  const session = ModelSession.open(base);
  const views = [];
  for (const s of steps) views.push(editView(await session.apply(parseStep(s))));
  const model = path.join(dir, 'model.onnx');
  await session.save(model);
  return { base, model, views };
}

test('each changed layer: bytes before and after and the SQNR the transform itself measured (INT8 per channel, MatMulNBits INT4)', async () => {
  const { base, model, views } = await pair([
    { transform: 'quantize', layers: ['conv1'], dtype: 'int8', granularity: 'per-channel' },
    { transform: 'quantize', layers: ['fc1'], dtype: 'int4', granularity: 'block', blockSize: 32, format: 'matmulnbits', symmetric: false },
  ]);
  const c = await compareModels(base, model);
  assert.deepEqual(c.changes.map((x) => x.layer).sort(), ['conv1', 'fc1'], JSON.stringify(views.map((v) => [v.layers, v.skipped])));
  assert.deepEqual(c.unmatched, []);
  for (const change of c.changes) {
    const own = views.flatMap((v) => v.changes).find((x) => x.layer === change.layer && x.sqnrDb !== null)!;
    assert.ok(Math.abs(change.sqnrDb! - own.sqnrDb!) < 0.05, `${change.layer}: ${change.sqnrDb} dB here, ${own.sqnrDb} dB by the transform`);
    // The tensor's bytes as apply counts them (with its scales), not the layer's with its bias.
    assert.deepEqual([change.bytesBefore, change.bytesAfter], [own.bytesBefore, own.bytesAfter], change.layer);
  }
  // The Edits row counts all stored weights, as the Size section does.
  assert.deepEqual([c.bytesBefore, c.bytesAfter], [(await fileFigures(base)).weightBytes, (await fileFigures(model)).weightBytes]);
  const fc1 = c.changes.find((x) => x.layer === 'fc1')!;
  assert.equal(fc1.opType, 'MatMulNBits', 'MatMulNBits read back in MatMul layout');
  assert.equal(c.worstSqnrDb, Math.min(...c.changes.map((x) => x.sqnrDb!)));
});

test('a layer that changed shape or disappeared is counted as not compared; the same file compares equal', async () => {
  const { base, model } = await pair([{ transform: 'factorize', layers: ['fc1'], rank: 4 }]);
  const c = await compareModels(base, model);
  assert.ok(c.unmatched.includes('fc1') || c.changes.some((x) => x.layer === 'fc1'), JSON.stringify(c.unmatched));
  const same = await compareModels(base, base);
  assert.deepEqual(same.changes, []);
  assert.equal(same.bytesBefore, same.bytesAfter);
});

test('the CLI writes the report as Markdown, HTML or JSON (from --format or the extension); bad options are named', async () => {
  const { base, model } = await pair([{ transform: 'quantize', layers: '*' }]);
  const md = spawnSync(process.execPath, [cli, 'report', model, '--baseline', base], { encoding: 'utf8' });
  assert.equal(md.status, 0, md.stderr);
  assert.match(md.stdout, /^# Compression report: model\.onnx/);
  assert.match(md.stdout, /Before: base\.onnx, the baseline this model is compared with\./);
  assert.match(md.stdout, /\| compared with base\.onnx \| conv1 \| Conv \|/);
  const out = path.join(path.dirname(model), 'r.html');
  const html = spawnSync(process.execPath, [cli, 'report', model, '--baseline', base, '-o', out], { encoding: 'utf8' });
  assert.equal(html.status, 0, html.stderr);
  assert.match(fs.readFileSync(out, 'utf8'), /^<!DOCTYPE html>/);
  const json = JSON.parse(spawnSync(process.execPath, [cli, 'report', model, '--baseline', base, '--format', 'json'], { encoding: 'utf8' }).stdout);
  assert.ok(json.after.weightBytes < json.before.weightBytes / 3);
  assert.equal(json.baseline, 'base.onnx');
  const noBase = spawnSync(process.execPath, [cli, 'report', model], { encoding: 'utf8' });
  assert.equal(noBase.status, 2);
  assert.match(noBase.stderr, /report needs --baseline BASE\.onnx/);
  const badFormat = spawnSync(process.execPath, [cli, 'report', model, '--baseline', base, '--format', 'pdf'], { encoding: 'utf8' });
  assert.match(badFormat.stderr, /--format takes md, html or json/);
});

test('a model from onnxruntime\'s quantizer: layers matched through its renames, convolutions with a BatchNormalization folded in are not compared', async () => {
  const base = path.join(thirdPartyModels, 'ch_ppocr_mobile_v2.0_cls_infer.onnx');
  for (const made of ['cls_dynamic_uint8.onnx', 'cls_qdq_int8.onnx']) {
    const c = await compareModels(base, path.join(repoRoot, 'test/fixtures/dtypes', made));
    assert.ok(c.changes.length >= 15, `${made}: ${c.changes.length} layers compared`);
    assert.ok(c.unmatched.includes('p2o.Conv.0') && c.unmatched.includes('p2o.BatchNormalization.0'), `${made}: the folded pair is left out`);
    assert.ok(c.worstSqnrDb! > 35, `${made}: INT8 of the unfolded layers, worst ${c.worstSqnrDb} dB`);
  }
});

test('a baseline that shares no layer with the model is refused, not reported as a ratio', async () => {
  const { base } = await pair([]);
  const other = path.join(fixtureModels, 'mlp_everything.onnx');
  await assert.rejects(compareModels(base, other), (e) => e instanceof UnrelatedModels && /none of the baseline's \d+ layers has a layer of the same name/.test(e.message));
  const r = spawnSync(process.execPath, [cli, 'report', other, '--baseline', base], { encoding: 'utf8' });
  assert.equal(r.status, 2, r.stderr);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: mlp_everything\.onnx does not correspond to base\.onnx: .*nothing compared\n$/);
});
