/**
 * The analysis as text for people: a header and a per-layer table, plain (for a terminal or an
 * output channel) or Markdown (for a report file).
 */
import type { ModelAnalysis } from '../analyzers/modelAnalysis';
import { qualifiedLayerName } from '../shared/layerName';
import { estimateParts, humanBytes, humanCount } from '../shared/format';
import { table } from './format';

/** The summary as [label, value] pairs: a terminal aligns them, Markdown makes them a list. */
function header(s: ModelAnalysis): [string, string][] {
  const m = s.model;
  const e = s.estimates;
  const opsets = Object.entries(m.opsets).map(([d, v]) => `${d} ${v}`).join(', ');
  const top = (table: Record<string, { bytes: number }>): string =>
    Object.entries(table)
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, 6)
      .map(([k, v]) => `${k} ${humanBytes(v.bytes)}`)
      .join(', ');
  return [
    ['Model', `${m.file} (${humanBytes(m.fileBytes)}${m.externalDataBytes ? ` + ${humanBytes(m.externalDataBytes)} external data` : ''})`],
    ['Format', `IR ${m.irVersion ?? '?'}, opsets ${opsets || 'none'}${m.producer ? `, produced by ${m.producer}` : ''}`],
    ['Graph', `${m.nodeCount} nodes in ${m.graphCount} graph${m.graphCount === 1 ? '' : 's'}`],
    ['Weights', `${humanCount(m.parameterCount)} parameters, ${humanBytes(m.weightBytes)}; ${s.layers.length} layers`],
    ['By op', top(s.breakdown.byOpType)],
    ['By type', top(s.breakdown.byDataType)],
    [
      'Compute',
      macsLine(s.macs.total, s.macs.resolvedNodes, s.macs.unresolved.length),
    ],
    ['Estimated', estimateParts(e).join(', ')],
  ];
}

/** Total MACs, or how much of it is known: a node whose shapes are unknown counts as unknown, not as 0. */
function macsLine(total: number, resolved: number, unresolved: number): string {
  if (unresolved === 0) return `${humanCount(total)} MACs per inference`;
  const known = resolved === 0 ? 'unknown MACs per inference' : `at least ${humanCount(total)} MACs per inference`;
  return `${known} (${unresolved} of ${resolved + unresolved} Conv/Gemm/MatMul/RNN nodes have shapes the inference did not reach; --dim NAME=VALUE or --shape INPUT=DxD... may resolve them)`;
}

const db = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : Number.isFinite(v) ? v.toFixed(1) : v > 0 ? 'exact' : '-inf');

function layerRows(s: ModelAnalysis): string[][] {
  const total = s.model.weightBytes || 1;
  return [...s.layers]
    .sort((a, b) => b.bytes - a.bytes)
    .map((l) => {
      const main = l.weights.find((w) => w.name === l.redundancy?.weight) ?? l.weights[0];
      const r = l.redundancy;
      return [
        qualifiedLayerName(l),
        l.opType,
        l.storedAs.label,
        l.weights.map((w) => `${w.dataType}[${w.shape.join('x')}]`).join(' '),
        humanCount(l.params),
        humanBytes(l.bytes),
        `${((100 * l.bytes) / total).toFixed(1)}%`,
        l.macs === null ? '-' : humanCount(l.macs),
        main?.stats ? `${(100 * main.stats.zeroFraction).toFixed(1)}%` : '-',
        db(r?.int8SqnrDb),
        db(r?.int4SqnrDb),
        db(r?.cluster16SqnrDb),
        r?.rank90 === null || r?.rank90 === undefined ? '-' : String(r.rank90),
        r ? r.entropyBitsInt8.toFixed(2) : '-',
      ];
    });
}

const COLUMNS = ['layer', 'op', 'stored as', 'weights', 'params', 'bytes', 'share', 'MACs', 'zeros', 'int8 dB', 'int4 dB', 'k16 dB', 'rank90', 'H bits'];
const NUMERIC = new Set([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);

/** What the less obvious columns mean, said once under the table. */
const COLUMN_NOTES: [string, string][] = [
  ['stored as', 'how the main weight is stored (quantized and clustered weights are analyzed on their real values)'],
  ['weights', 'the stored tensors the layer computes with, type[shape]'],
  ['share', "the layer's part of all weight bytes"],
  ['MACs', 'multiply-accumulates per inference ("-" when the shapes are unknown or the op has none counted)'],
  ['zeros', 'fraction of exact zeros in the main weight'],
  ['int8 dB, int4 dB', 'SQNR of symmetric per-channel quantization of the main weight (higher is better; about 40 dB and up is usually harmless)'],
  ['k16 dB', 'SQNR of 16-way weight clustering'],
  ['rank90', 'rank keeping 90% of the singular-value energy (low means low-rank factorization pays)'],
  ['H bits', 'entropy of the INT8 codes per weight (below 8 means entropy coding would shrink them)'],
];

export function textReport(s: ModelAnalysis): string {
  const unattributedBytes = s.unattributed.reduce((n, w) => n + w.bytes, 0);
  return [
    ...header(s).map(([label, value]) => `${label.padEnd(11)} ${value}`),
    '',
    table(COLUMNS, layerRows(s), NUMERIC),
    '',
    `Unattributed: ${s.unattributed.length} tensors, ${humanBytes(unattributedBytes)} (shapes, axes, scalars, quantization parameters of activations)`,
    ...COLUMN_NOTES.map(([column, meaning]) => `${column}: ${meaning}`),
  ].join('\n');
}

/** The analysis as Markdown: summary list, column notes, per-layer table (each block set off by blank lines so it renders). */
export function markdownReport(s: ModelAnalysis, title = `# ONNX Compress report: ${s.model.file}`): string {
  return [
    title,
    '',
    ...header(s).map(([label, value]) => `- **${label}**: ${markdownText(value)}`),
    '',
    'Columns:',
    '',
    ...COLUMN_NOTES.map(([column, meaning]) => `- **${column}**: ${markdownText(meaning)}`),
    '',
    `| ${COLUMNS.join(' | ')} |`,
    `| ${COLUMNS.map((_, i) => (NUMERIC.has(i) ? '---:' : '---')).join(' | ')} |`,
    ...layerRows(s).map((r) => `| ${r.map(markdownText).join(' | ')} |`),
    '',
  ].join('\n');
}

/** Text as Markdown shows it literally: pipes, asterisks and backticks escaped (a lone `_` inside a name does not emphasize, so names stay readable). */
export function markdownText(v: string): string {
  return v.replace(/[|*`\\]/g, '\\$&');
}
