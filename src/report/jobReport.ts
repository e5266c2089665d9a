/**
 * The report of a whole job (what `npm start` writes to out/report.md): a verdict line, what the
 * recipe changed, how the result compares with the original in onnxruntime, and the analysis of
 * the original. Every table is followed by what its columns mean; every list is set off by blank
 * lines so Markdown renders it as a list.
 */
import type { ModelAnalysis } from '../analyzers/modelAnalysis';
import type { EvaluationResult } from '../eval/protocol';
import type { StepResult } from '../transforms/apply';
import { markdownReport, markdownText } from './analysisText';
import { humanBytes, plural } from '../shared/format';
import { verdictLine, type SizeOutcome } from './verdict';
import { taskFigures } from './taskText';

export interface JobReport {
  readonly analysis: ModelAnalysis;
  /** The recipe file as the user named it. */
  readonly recipe: string;
  readonly compression: SizeOutcome & { readonly output: string | null };
  /** The label of each step ("Quantize all layers to int8 per-channel"). */
  readonly labels: readonly string[];
  readonly evaluation: EvaluationResult;
}

export function jobReportMarkdown(r: JobReport): string {
  const blocks = [
    `**${markdownText(verdictLine(r.compression, r.evaluation))}**`,
    `# ONNX Compress report: ${markdownText(r.analysis.model.file)}`,
    `Analyzed, compressed with \`${r.recipe}\`${r.compression.output ? ` into \`${r.compression.output}\`` : ''}, and checked against the original in onnxruntime.`,
    '## Checked against the original in onnxruntime',
    ...evaluationBlocks(r.evaluation, r.compression),
    `## Compressed with ${markdownText(r.recipe)}`,
    ...r.compression.steps.flatMap((s, i) => stepBlocks(s, r.labels[i] ?? s.transform, i + 1)),
    markdownReport(r.analysis, '## Analysis of the original').trimEnd(),
  ];
  return `${blocks.join('\n\n')}\n`;
}

function mdTable(header: readonly string[], rows: readonly string[][], right: ReadonlySet<number>): string {
  return [
    `| ${header.map(markdownText).join(' | ')} |`,
    `| ${header.map((_, i) => (right.has(i) ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(markdownText).join(' | ')} |`),
  ].join('\n');
}

function list(items: readonly string[]): string {
  return items.map((i) => `- ${i}`).join('\n');
}

const db = (v: number | null | undefined): string => (v === null || v === undefined ? 'exact' : `${v.toFixed(1)} dB`);
const pct = (v: number | undefined): string => (v === undefined ? '—' : `${(v * 100).toFixed(2)}%`);

function stepBlocks(s: StepResult, label: string, n: number): string[] {
  const rows = s.changed.flatMap((c) =>
    c.tensors.map((t) => [c.layer, c.opType, t.tensor, humanBytes(t.bytesBefore), humanBytes(t.bytesAfter), db(t.sqnrDb), t.maxError === undefined ? '—' : t.maxError.toPrecision(3)]),
  );
  const blocks = [`### Step ${n}: ${markdownText(label)}`, `${plural(s.changed.length, 'layer')} changed, ${s.skipped.length} skipped; weights ${humanBytes(s.bytesBefore)} → ${humanBytes(s.bytesAfter)}.`];
  if (rows.length) {
    blocks.push(
      mdTable(['layer', 'op', 'tensor', 'before', 'after', 'SQNR', 'max error'], rows, new Set([3, 4, 5, 6])),
      list([
        '**before, after**: the tensor\'s stored bytes',
        '**SQNR**: signal-to-quantization-noise ratio of the new weight against the old (higher is better; exact when nothing was lost)',
        '**max error**: the largest change of any single weight',
      ]),
    );
  }
  const skipped = skippedByReason(s);
  if (skipped.length) blocks.push('Skipped:', list(skipped));
  if (s.notes.length) blocks.push('Notes:', list(s.notes.map(markdownText)));
  return blocks;
}

/** Skipped layers grouped by reason: "34 BatchNormalization, 1 Add: it has no weights of rank 2 or more". */
function skippedByReason(s: StepResult): string[] {
  const byReason = new Map<string, Map<string, number>>();
  for (const k of s.skipped) {
    const ops = byReason.get(k.reason) ?? new Map<string, number>();
    ops.set(k.opType, (ops.get(k.opType) ?? 0) + 1);
    byReason.set(k.reason, ops);
  }
  return [...byReason].map(([reason, ops]) => `${[...ops].map(([op, count]) => `${count} ${op}`).join(', ')}: ${markdownText(reason)}`);
}

function evaluationBlocks(e: EvaluationResult, size: SizeOutcome): string[] {
  const ms = (v: number): string => `${v.toFixed(2)} ms`;
  const runs: [string, EvaluationResult['candidate'], number | null][] = [
    ...(e.baseline ? [['original', e.baseline, size.fileBytesBefore] as [string, EvaluationResult['candidate'], number]] : []),
    ['compressed', e.candidate, size.fileBytesAfter],
  ];
  const blocks = [
    `${markdownText(e.description)}; batch ${e.batchSize}.`,
    mdTable(
      ['model', 'top-1', 'top-5', 'latency median', 'p90', 'samples/s', 'file'],
      runs.map(([name, m, bytes]) => [name, pct(m.accuracy), pct(m.top5), ms(m.latencyMs.median), ms(m.latencyMs.p90), m.samplesPerSecond.toFixed(1), bytes === null ? '—' : humanBytes(bytes)]),
      new Set([1, 2, 3, 4, 5, 6]),
    ),
    list([
      '**top-1, top-5**: accuracy against the labels (— without labels; top-5 — too for 5 classes or fewer, where every sample is in it)',
      '**latency median, p90**: time per batch of inference, the middle and the 90th-percentile run',
      '**samples/s**: throughput over the whole run',
    ]),
  ];
  // Sentences, not a list: a list right after the column notes would merge into them.
  const facts: string[] = [];
  if (e.agreement !== undefined && !e.tasks?.length) facts.push(`Top-1 agreement ${pct(e.agreement)}: how often both models pick the same class.`);
  if (e.accuracyDelta) {
    const d = e.accuracyDelta;
    const noise = d.ci95[0] <= 0 && d.ci95[1] >= 0;
    facts.push(`Accuracy change ${(d.value * 100).toFixed(2)} pt, 95% CI [${(d.ci95[0] * 100).toFixed(2)}, ${(d.ci95[1] * 100).toFixed(2)}] pt (McNemar p = ${d.pValue.toPrecision(3)}; ${noise ? 'within noise' : 'a real difference'}).`);
  }
  if (facts.length) blocks.push(facts.join(' '));
  if (e.tasks?.length) blocks.push(list(e.tasks.map((t) => `**${markdownText(t.name)}**: ${t.task} (${markdownText(t.why)}): ${markdownText(taskFigures(t))}`)));
  if (e.outputs?.length) {
    blocks.push(
      mdTable(
        ['output', 'max |err|', 'mean |err|', 'SQNR', 'cosine', 'KL'],
        e.outputs.map((o) => [o.name, o.maxAbsError.toPrecision(4), o.meanAbsError.toPrecision(4), db(o.sqnrDb), o.cosine.toFixed(6), o.klDivergence.toPrecision(4)]),
        new Set([1, 2, 3, 4, 5]),
      ),
      list([
        "**max \\|err\\|, mean \\|err\\|**: the compressed model's output minus the original's, largest and average",
        '**SQNR**: output signal against that difference, in dB (higher is better)',
        '**cosine**: cosine similarity of the two outputs (1 is identical)',
        '**KL**: KL divergence of the softmaxed outputs, original ‖ compressed (0 is identical)',
      ]),
    );
  }
  if (e.synthetic) blocks.push('No data was given: these figures are fidelity on synthetic inputs, not accuracy.');
  return blocks;
}
