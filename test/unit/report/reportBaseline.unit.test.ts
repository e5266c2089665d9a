/** The report's baseline is the model as opened, kept across saves; after a save it also compares with the file as saved. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelSession } from '../../../src/transforms/modelSession';
import { parseStep } from '../../../src/transforms/recipe';
import { ReportFigures, stateFigures } from '../../../src/host/reportFigures';
import { baselineLines } from '../../../src/report/baselines';
import type { CompressionReport, SizeFigures } from '../../../src/report/compressionReport';
import { reportHtml } from '../../../src/report/reportHtml';
import { reportMarkdown } from '../../../src/report/reportMarkdown';
import { tempDir } from '../../helpers/paths';
import { smallCnn } from '../../helpers/smallModels';

test('the opened figures survive a save over the file; the file on disk is measured again', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'cnn.onnx');
  const original = smallCnn();
  fs.writeFileSync(file, original);
  const figures = new ReportFigures(file);
  const session = ModelSession.open(file);
  const opened = await figures.opened();
  assert.equal(opened.bytes, original.length);
  await session.apply(parseStep({ transform: 'quantize', layers: '*' }));
  await session.save();
  assert.deepEqual(await figures.opened(), opened, 'still the model as opened');
  const saved = await figures.onDisk();
  assert.equal(saved.bytes, fs.statSync(file).size);
  assert.ok(saved.bytes < opened.bytes);
  assert.equal((await stateFigures(session.state)).weightBytes, saved.weightBytes);
  figures.reset();
  assert.equal((await figures.opened()).bytes, saved.bytes, 'a reload makes the file the new baseline');
});

test('the report says what it compares with: since opened, and since last save', () => {
  const sizes = (bytes: number): SizeFigures => ({ bytes, weightBytes: bytes, gzipBytes: bytes, entropyBytes: bytes });
  // The bundled sample, before and after INT8.
  const report: CompressionReport = { model: 'digits-cnn.onnx', generated: 'now', before: sizes(1_136_355), saved: sizes(288_098), after: sizes(288_098), edits: [], accuracy: [] };
  assert.deepEqual(baselineLines(report), ['since opened: 1.08 MiB → 281.3 KiB (3.94x)', 'since last save: 281.3 KiB → 281.3 KiB (1.00x)']);
  assert.deepEqual(baselineLines({ ...report, saved: undefined }), ['since opened: 1.08 MiB → 281.3 KiB (3.94x)']);
  assert.ok(reportMarkdown(report).includes('- since opened: 1.08 MiB → 281.3 KiB (3.94x)'));
  assert.ok(reportHtml(report).includes('<li>since last save: 281.3 KiB → 281.3 KiB (1.00x)</li>'));
});
