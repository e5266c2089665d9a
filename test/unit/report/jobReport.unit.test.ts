/**
 * The report a user meets first (npm start's out/report.md): a verdict line, then sections whose
 * lists render as Markdown lists and whose tables say what their columns mean.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { analyzeModel, type ModelAnalysis } from '../../../src/analyzers/modelAnalysis';
import { openModel } from '../../../src/core/onnx/model';
import type { EvaluationResult } from '../../../src/eval/protocol';
import type { StepResult } from '../../../src/transforms/apply';
import { jobReportMarkdown } from '../../../src/report/jobReport';
import { markdownReport } from '../../../src/report/analysisText';
import { verdictLine } from '../../../src/report/verdict';
import { fixtureModels } from '../../helpers/paths';

const quantizeStep: StepResult = {
  transform: 'quantize',
  step: { transform: 'quantize', layers: '*', dtype: 'int8', granularity: 'per-channel', symmetric: true, mode: 'weights' },
  changed: [{ layer: 'fc1', opType: 'MatMul', tensors: [{ tensor: 'fc1.w', bytesBefore: 512, bytesAfter: 192, sqnrDb: 44.2, maxError: 0.004 }] }],
  skipped: [
    { layer: 'bn1', opType: 'BatchNormalization', reason: 'it has no weights of rank 2 or more' },
    { layer: 'bn2', opType: 'BatchNormalization', reason: 'it has no weights of rank 2 or more' },
    { layer: 'add', opType: 'Add', reason: 'it has no weights of rank 2 or more' },
  ],
  notes: [],
  bytesBefore: 600,
  bytesAfter: 280,
};

const run = (median: number, accuracy?: number) => ({ latencyMs: { median, p90: median * 1.2 }, samplesPerSecond: 100, ...(accuracy !== undefined ? { accuracy } : {}) });
const synthetic: EvaluationResult = {
  samples: 64,
  description: '64 synthetic inputs (uniform in [-1, 1), seed 1): fidelity on synthetic inputs, not accuracy',
  synthetic: true,
  batchSize: 8,
  baseline: run(10),
  candidate: run(13),
  agreement: 1,
  outputs: [{ name: 'y', maxAbsError: 0.01, meanAbsError: 0.002, sqnrDb: 35.7, cosine: 0.9999, klDivergence: 0.0001 }],
};
const size = { fileBytesBefore: 1_132_000, fileBytesAfter: 288_000, steps: [quantizeStep] };

test('the verdict says size before → after, agreement on what data, and the latency change with its reason', () => {
  assert.equal(verdictLine(size, synthetic), '1.08 MiB → 281.3 KiB (3.9x smaller), top-1 agreement 100.0% on 64 synthetic inputs, latency 1.3x slower: weight-only DequantizeLinear runs every inference');
  const labelled: EvaluationResult = { ...synthetic, synthetic: false, samples: 500, baseline: run(10, 0.761), candidate: run(5, 0.759), agreement: 0.982 };
  assert.equal(verdictLine(size, labelled), '1.08 MiB → 281.3 KiB (3.9x smaller), top-1 accuracy 76.1% → 75.9% on 500 samples (top-1 agreement 98.2%), latency 2.0x faster');
  assert.match(verdictLine(size, { ...synthetic, candidate: run(10.2) }), /, latency unchanged$/);
  const pruned = { ...size, steps: [{ ...quantizeStep, transform: 'prune' as const, step: { transform: 'prune' } }] };
  assert.match(verdictLine(pruned, synthetic), /latency 1\.3x slower$/, 'no reason claimed when none is known');
  const nbits = { ...size, steps: [{ ...quantizeStep, step: { ...quantizeStep.step, dtype: 'int4', granularity: 'block', format: 'matmulnbits' } }] } as typeof size;
  assert.match(verdictLine(nbits, synthetic), /latency 1\.3x slower: onnxruntime's MatMulNBits kernels can be slower than float GEMM on layers ≲ 512 wide and on many-token inputs$/, 'MatMulNBits has no DequantizeLinear');
  assert.match(verdictLine({ ...size, fileBytesAfter: null }, synthetic), /^1\.08 MiB, unchanged/);
});

let analysis: ModelAnalysis | undefined;
async function mlp(): Promise<ModelAnalysis> {
  analysis ??= await analyzeModel(openModel(path.join(fixtureModels, 'mlp_everything.onnx')), {});
  return analysis;
}

/** Markdown lists render only as lines starting "- " after a blank line (or another item). */
function assertListsRender(md: string): void {
  const lines = md.split('\n');
  lines.forEach((line, i) => {
    if (!line.startsWith('- ')) return;
    assert.ok(lines[i - 1] === '' || lines[i - 1].startsWith('- '), `list item after a blank line or an item: ${JSON.stringify(lines[i - 1])} → ${JSON.stringify(line)}`);
  });
}

test('report.md opens with the verdict, then the title; its lists render and its tables explain their columns', async () => {
  const md = jobReportMarkdown({ analysis: await mlp(), recipe: 'recipes/default.json', compression: { ...size, output: 'out/m.int8.onnx' }, labels: ['Quantize all layers to int8 per-channel'], evaluation: synthetic });
  const lines = md.split('\n');
  assert.equal(lines[0], `**${verdictLine(size, synthetic)}**`);
  assert.equal(lines[1], '');
  assert.equal(lines[2], '# ONNX Compress report: mlp_everything.onnx');
  assertListsRender(md);
  assert.match(md, /\n- \*\*By op\*\*: \S/, "'By op' is a bullet of its own, labelled By op");
  assert.match(md, /\n- \*\*By type\*\*: FLOAT /);
  assert.doesNotMatch(md, /\*\*By\*\*/);
  assert.match(md, /\n- 2 BatchNormalization, 1 Add: it has no weights of rank 2 or more\n/, 'skipped layers grouped by reason');
  for (const column of ['SQNR', 'max error', 'latency median, p90', 'cosine', 'KL', 'int8 dB, int4 dB', 'rank90', 'H bits']) {
    assert.match(md, new RegExp(`\\n- \\*\\*${column.replace(/[|]/g, '\\\\$&')}\\*\\*: `), `column ${column} explained`);
  }
  // A table's pipes inside a cell are escaped, or the table falls apart.
  for (const row of lines.filter((l) => l.startsWith('|'))) {
    const cells = row.replace(/\\\|/g, '').split('|').length;
    const header = lines[lines.lastIndexOf('', lines.indexOf(row)) + 1].replace(/\\\|/g, '').split('|').length;
    assert.equal(cells, header, row);
  }
});

test("the analysis's own Markdown has one bullet per summary line and a column key", async () => {
  const md = markdownReport(await mlp());
  assertListsRender(md);
  const bullets = md.split('\n').filter((l) => l.startsWith('- **'));
  for (const label of ['Model', 'Format', 'Graph', 'Weights', 'By op', 'By type', 'Compute', 'Estimated', 'stored as', 'H bits']) {
    assert.ok(bullets.some((b) => b.startsWith(`- **${label}**: `)), label);
  }
});
