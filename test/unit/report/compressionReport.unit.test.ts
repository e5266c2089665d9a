/** The Compression Report's figures and exports, on an edit the test makes itself. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ModelSession } from '../../../src/transforms/modelSession';
import { parseStep } from '../../../src/transforms/recipe';
import { storedBytes } from '../../../src/transforms/apply';
import { encodeMessage } from '../../../src/core/protobuf/encode';
import { concatBytes } from '../../../src/core/bytes';
import { ModelSchema } from '../../../src/core/onnx/schema';
import type { CompressionReport } from '../../../src/report/compressionReport';
import { editView } from '../../../src/report/editView';
import { entropyBits, measureSizes } from '../../../src/report/sizeFigures';
import { reportMarkdown } from '../../../src/report/reportMarkdown';
import { reportHtml } from '../../../src/report/reportHtml';
import { tempDir } from '../../helpers/paths';
import { seededRandom } from '../../../src/core/random';
import { smallCnn } from '../../helpers/smallModels';

test('sizes: stored bytes, gzip as zlib makes it, order-0 entropy worked out by hand', async () => {
  // 3 kinds of bytes with counts 2, 1, 1: entropy 2·1 + 1·2 + 1·2 = 6 bits -> 1 byte.
  const tiny = await measureSizes([Uint8Array.of(7, 7), Uint8Array.of(1, 2)], 0);
  assert.equal(tiny.bytes, 4);
  assert.equal(tiny.entropyBytes, 1);
  const counts = new Float64Array(256);
  counts[0] = 8;
  assert.equal(entropyBits(counts, 8), 0, 'one symbol carries no information');

  const bytes = smallCnn();
  const parts = [bytes.subarray(0, 1000), bytes.subarray(1000)];
  const sizes = await measureSizes(parts, 123);
  assert.equal(sizes.bytes, bytes.length);
  assert.equal(sizes.weightBytes, 123);
  assert.equal(sizes.gzipBytes, zlib.gzipSync(bytes, { level: 6 }).length);
  assert.ok(sizes.entropyBytes < bytes.length && sizes.entropyBytes > sizes.gzipBytes / 4);
});

test('sizes with a signal: the same figures in 8 MB slices; an abort stops the count and gzip', async () => {
  const random = seededRandom(3);
  const big = new Uint8Array(12 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = random() < 0.7 ? 0 : Math.floor(random() * 256);
  const parts = [big.subarray(0, 1_000_001), big.subarray(1_000_001)]; // the second is counted in two slices
  const whole = await measureSizes(parts, 7);
  assert.deepEqual(await measureSizes(parts, 7, new AbortController().signal), whole);
  assert.equal(whole.gzipBytes, zlib.gzipSync(big, { level: 6 }).length);
  const controller = new AbortController();
  const measuring = measureSizes(parts, 7, controller.signal);
  setImmediate(() => controller.abort());
  await assert.rejects(measuring, { name: 'AbortError' });
});

test('an INT8 edit in the report: per-tensor rows, size ratios, Markdown and escaped HTML', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'cnn.onnx');
  fs.writeFileSync(file, smallCnn());
  const session = ModelSession.open(file);
  const before = await measureSizes([fs.readFileSync(file)], storedBytes(session.state));
  const edit = await session.apply(parseStep({ transform: 'quantize', dtype: 'int8', granularity: 'per-channel' }));
  const view = editView(edit);
  assert.ok(view.changes.length >= 3, 'one row per weight tensor changed');
  for (const c of view.changes) {
    assert.ok(c.bytesAfter < c.bytesBefore, `${c.tensor} shrinks`);
    assert.ok(c.sqnrDb !== null && c.sqnrDb > 25, `${c.tensor}: ${c.sqnrDb} dB`);
  }
  assert.equal(view.worstSqnrDb, Math.min(...view.changes.map((c) => c.sqnrDb!)));
  const after = await measureSizes(encodeMessage(ModelSchema, session.state.proto).finish(), storedBytes(session.state));
  assert.equal(after.bytes, concatBytes(encodeMessage(ModelSchema, session.state.proto).finish()).length);
  const report: CompressionReport = { model: 'cnn<1>.onnx', generated: '2026-01-01T00:00:00Z', before, after, edits: [view], accuracy: [] };

  const md = reportMarkdown(report);
  assert.ok(md.includes(`| ${view.label} |`));
  const ratio = (before.bytes / after.bytes).toFixed(2);
  assert.ok(md.includes(`${ratio}x`), `file ratio ${ratio}x in\n${md}`);
  for (const c of view.changes) assert.ok(md.includes(`| ${c.tensor} |`), c.tensor);
  assert.ok(md.includes('None run.'));

  const html = reportHtml(report);
  assert.ok(html.includes('cnn&lt;1&gt;.onnx') && !html.includes('cnn<1>'), 'names are escaped');
  assert.ok(!/<script/i.test(html), 'no scripts');
});
