/**
 * `onnx-compress report MODEL --baseline BASE`: the editor's Compression Report, headless, for a
 * model made by any tool: sizes before and after (stored, gzip, entropy), and each layer's weight
 * error against the baseline (report/modelComparison.ts), as Markdown, HTML or JSON.
 */
import * as path from 'node:path';
import { saveText } from '../core/onnx/saveFiles';
import { reportOfFiles } from '../report/modelComparison';
import { reportMarkdown } from '../report/reportMarkdown';
import { reportHtml } from '../report/reportHtml';
import type { ReportFormat } from '../shared/protocol';
import { plural } from '../shared/format';

export interface ReportOptions {
  readonly baseline: string;
  /** Default: from the output's extension, else Markdown. */
  readonly format?: ReportFormat;
  /** Default: stdout. */
  readonly output?: string;
}

const BY_EXTENSION: Record<string, ReportFormat> = { '.md': 'markdown', '.html': 'html', '.htm': 'html', '.json': 'json' };

export async function runReport(model: string, options: ReportOptions, out: (text: string) => void, note: (text: string) => void): Promise<void> {
  const format = options.format ?? (options.output ? BY_EXTENSION[path.extname(options.output).toLowerCase()] : undefined) ?? 'markdown';
  const report = await reportOfFiles(model, options.baseline);
  const { unmatched, compared, missing, ...panel } = report;
  const text = format === 'json' ? JSON.stringify(report, null, 2) : format === 'html' ? reportHtml(panel) : reportMarkdown(panel);
  if (missing > compared) {
    note(`warning: ${missing} of the ${plural(compared + unmatched.length, 'layer')} of ${path.basename(options.baseline)} have no layer of that name in ${path.basename(model)}, only ${compared} compared: if it is not a compressed version of the baseline, the size ratios compare unrelated models`);
  }
  if (unmatched.length) {
    const shown = unmatched.slice(0, 5).join(', ');
    note(`${plural(unmatched.length, 'layer')} of ${path.basename(options.baseline)} ${unmatched.length === 1 ? 'has' : 'have'} no layer of the same name and weight shape in ${path.basename(model)} (factorized, removed, or a BatchNormalization folded into them), so their error is not measured: ${shown}${unmatched.length > 5 ? ', …' : ''}`);
  }
  if (!report.edits[0].changes.length && !unmatched.length) note(`the layers of ${path.basename(model)} hold the same weights as ${path.basename(options.baseline)}`);
  if (!options.output) return out(text);
  await saveText(options.output, `${text}\n`);
  note(`wrote ${options.output} (${format})`);
}
