/**
 * The analysis as text for people: a header and a per-layer table, plain (for a terminal or an
 * output channel) or Markdown (for a report file).
 */
import type { ModelAnalysis } from '../analyzers/modelAnalysis';
import { qualifiedLayerName } from '../shared/layerName';
import { humanBytes, humanCount } from '../shared/format';
import { table } from './format';

function header(s: ModelAnalysis): string[] {
  const m = s.model;
  const e = s.estimates;
  const opsets = Object.entries(m.opsets).map(([d, v]) => `${d} ${v}`).join(', ');
  const top = (table: Record<string, { bytes: number }>): string =>
    Object.entries(table)
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, 6)
      .map(([k, v]) => `${k} ${humanBytes(v.bytes)}`)
      .join(', ');
  const lines = [
    `Model       ${m.file} (${humanBytes(m.fileBytes)}${m.externalDataBytes ? ` + ${humanBytes(m.externalDataBytes)} external data` : ''})`,
    `Format      IR ${m.irVersion ?? '?'}, opsets ${opsets || 'none'}${m.producer ? `, produced by ${m.producer}` : ''}`,
    `Graph       ${m.nodeCount} nodes in ${m.graphCount} graph${m.graphCount === 1 ? '' : 's'}`,
    `Weights     ${humanCount(m.parameterCount)} parameters, ${humanBytes(m.weightBytes)}; ${s.layers.length} layers`,
    `By op       ${top(s.breakdown.byOpType)}`,
    `By type     ${top(s.breakdown.byDataType)}`,
    `Compute     ${humanCount(s.macs.total)} MACs per inference` +
      (s.macs.unresolved.length ? ` (${s.macs.unresolved.length} of ${s.macs.resolvedNodes + s.macs.unresolved.length} Conv/Gemm/MatMul/RNN nodes unresolved: unknown dims; pass --dim NAME=VALUE or --shape INPUT=DxD...)` : ''),
    `Estimated   FP16 ${humanBytes(e.float16Bytes)}, INT8 ${humanBytes(e.int8PerChannelBytes)}, INT4 ${humanBytes(e.int4PerChannelBytes)}, 16 clusters ${humanBytes(e.cluster16Bytes)}` +
      (e.huffmanInt8Bytes !== null ? `, INT8+Huffman ${humanBytes(e.huffmanInt8Bytes)}` : ''),
  ];
  return lines;
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

export function textReport(s: ModelAnalysis): string {
  const unattributedBytes = s.unattributed.reduce((n, w) => n + w.bytes, 0);
  return [
    ...header(s),
    '',
    table(COLUMNS, layerRows(s), NUMERIC),
    '',
    `Unattributed: ${s.unattributed.length} tensors, ${humanBytes(unattributedBytes)} (shapes, axes, scalars, quantization parameters of activations)`,
    'stored as: how the main weight is stored (quantized and clustered weights are analyzed on their real values);',
    'int8/int4 dB: SQNR of symmetric per-channel quantization of the main weight; k16: of 16-way clustering;',
    'rank90: rank keeping 90% of the singular-value energy; H bits: entropy of the INT8 codes per weight.',
  ].join('\n');
}

export function markdownReport(s: ModelAnalysis): string {
  const esc = (v: string): string => v.replace(/\|/g, '\\|');
  return [
    `# ONNX Compress report: ${s.model.file}`,
    '',
    ...header(s).map((l) => `- ${l.replace(/^(\w+)\s+/, '**$1**: ')}`),
    '',
    `| ${COLUMNS.join(' | ')} |`,
    `| ${COLUMNS.map((_, i) => (NUMERIC.has(i) ? '---:' : '---')).join(' | ')} |`,
    ...layerRows(s).map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
  ].join('\n');
}
