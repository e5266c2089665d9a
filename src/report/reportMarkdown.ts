/** The Compression Report as Markdown (the editor's "Export as Markdown"). */
import type { CompressionReport } from './compressionReport';
import { baselineLines, baselineNote } from './baselines';
import { humanBytes, plural } from '../shared/format';
import { ACCURACY_HEADER, CHANGE_HEADER, accuracyRows, changeRows, db, sizeRows } from './reportRows';

export function reportMarkdown(r: CompressionReport): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const table = (header: string[], rows: string[][]): string =>
    [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');
  const verdict = r.accuracy.at(-1)?.verdict;
  const parts = [
    ...(verdict ? [`**${verdict.line}**`] : []),
    `# Compression report: ${r.model}`,
    `Generated ${r.generated}. ${r.baseline ? `Compared with ${r.baseline} layer by layer.` : `${plural(r.edits.length, 'edit')} in effect.`}`,
    '## Size',
    [baselineNote(r), ...baselineLines(r).map((l) => `- ${l}`)].join('\n'),
    table(['measure', 'before', 'after', 'ratio'], sizeRows(r)),
    '## Edits',
    r.edits.length ? table(['edit', 'weights before', 'after', 'worst SQNR', 'layers skipped'], r.edits.map((e) => [e.label, humanBytes(e.bytesBefore), humanBytes(e.bytesAfter), db(e.worstSqnrDb), String(e.skipped)])) : 'None.',
    '## Per-tensor error',
    r.edits.some((e) => e.changes.length) ? table(CHANGE_HEADER, changeRows(r)) : 'No tensor changed.',
    '## Accuracy checks',
    r.accuracy.length ? table(ACCURACY_HEADER, accuracyRows(r)) : 'None run.',
  ];
  return `${parts.join('\n\n')}\n`;
}
