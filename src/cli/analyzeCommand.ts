/** `onnx-compress analyze MODEL [--json] [--report FILE.md]` */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModel } from '../core/onnx/model';
import { summarizeModel, type ModelSummary } from '../analyzers/modelSummary';
import { humanBytes, humanCount, table } from './format';

export interface AnalyzeOptions {
  json: boolean;
  report?: string;
}

export function runAnalyze(file: string, options: AnalyzeOptions, out: (text: string) => void): void {
  const summary = summarizeModel(openModel(file));
  if (options.report) {
    fs.mkdirSync(path.dirname(path.resolve(options.report)), { recursive: true });
    fs.writeFileSync(options.report, markdownReport(summary));
  }
  out(options.json ? JSON.stringify(summary, null, 2) : textReport(summary));
}

function header(s: ModelSummary): string[] {
  const m = s.model;
  const opsets = Object.entries(m.opsets).map(([d, v]) => `${d} ${v}`).join(', ');
  return [
    `Model       ${m.file} (${humanBytes(m.fileBytes)}${m.externalDataBytes ? ` + ${humanBytes(m.externalDataBytes)} external data` : ''})`,
    `Format      IR ${m.irVersion ?? '?'}, opsets ${opsets || 'none'}${m.producer ? `, produced by ${m.producer}` : ''}`,
    `Graph       ${m.nodeCount} nodes in ${m.graphCount} graph${m.graphCount === 1 ? '' : 's'}`,
    `Weights     ${humanCount(m.parameterCount)} parameters, ${humanBytes(m.weightBytes)}; ${s.layers.length} layers`,
  ];
}

function layerRows(s: ModelSummary): string[][] {
  const total = s.model.weightBytes || 1;
  return [...s.layers]
    .sort((a, b) => b.bytes - a.bytes)
    .map((l) => [
      l.graph === 'main' ? l.name : `${l.graph}/${l.name}`,
      l.opType,
      l.weights.map((w) => `${w.dataType}[${w.shape.join('x')}]`).join(' '),
      humanCount(l.params),
      humanBytes(l.bytes),
      `${((100 * l.bytes) / total).toFixed(1)}%`,
    ]);
}

const COLUMNS = ['layer', 'op', 'weights', 'params', 'bytes', 'share'];

function textReport(s: ModelSummary): string {
  const unattributedBytes = s.unattributed.reduce((n, w) => n + w.bytes, 0);
  return [
    ...header(s),
    '',
    table(COLUMNS, layerRows(s), new Set([3, 4, 5])),
    '',
    `Unattributed: ${s.unattributed.length} tensors, ${humanBytes(unattributedBytes)} (shapes, axes, scalars, quantization parameters of activations)`,
  ].join('\n');
}

function markdownReport(s: ModelSummary): string {
  const esc = (v: string): string => v.replace(/\|/g, '\\|');
  const rows = layerRows(s);
  return [
    `# ONNX Compress report: ${s.model.file}`,
    '',
    ...header(s).map((l) => `- ${l.replace(/^(\w+)\s+/, '**$1**: ')}`),
    '',
    `| ${COLUMNS.join(' | ')} |`,
    `| ${COLUMNS.map((_, i) => (i >= 3 ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
    '',
  ].join('\n');
}
