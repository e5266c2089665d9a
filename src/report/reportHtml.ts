/** The Compression Report as a self-contained HTML page (the editor's "Export as HTML"). */
import type { CompressionReport } from './compressionReport';
import { baselineLines, baselineNote } from './baselines';
import { ACCURACY_HEADER, CHANGE_HEADER, accuracyRows, changeRows, sizeRows } from './reportRows';
import { plural } from '../shared/format';

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A self-contained HTML page (no scripts, no remote resources). */
export function reportHtml(r: CompressionReport): string {
  const table = (header: string[], rows: string[][]): string =>
    `<table><thead><tr>${header.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
      .map((row) => `<tr>${row.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
      .join('')}</tbody></table>`;
  const bar = (name: string, before: number, after: number): string => {
    const width = (v: number): number => (before > 0 ? Math.max(0.5, (100 * v) / Math.max(before, after)) : 0);
    return `<div class="bar"><span>${escapeHtml(name)}</span><div><i style="width:${width(before).toFixed(1)}%" class="before"></i><i style="width:${width(after).toFixed(1)}%" class="after"></i></div></div>`;
  };
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Compression report: ${escapeHtml(r.model)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:.5em 0 1.5em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left}td:nth-child(n+2){font-variant-numeric:tabular-nums}
.bar{display:flex;align-items:center;gap:1em;margin:.2em 0}.bar span{width:10em}.bar div{flex:1}
.bar i{display:block;height:.7em;margin:1px 0}.before{background:#888}.after{background:#2a7}
</style></head><body>
${r.accuracy.at(-1)?.verdict ? `<p><strong>${escapeHtml(r.accuracy.at(-1)!.verdict!.line)}</strong></p>` : ''}
<h1>Compression report: ${escapeHtml(r.model)}</h1>
<p>Generated ${escapeHtml(r.generated)}. ${r.baseline ? `Compared with ${escapeHtml(r.baseline)} layer by layer.` : `${plural(r.edits.length, 'edit')} in effect.`} Grey: before, green: after.</p>
<h2>Size</h2>
<p>${escapeHtml(baselineNote(r))}</p><ul>${baselineLines(r).map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>
${bar('file', r.before.bytes, r.after.bytes)}${bar('gzip', r.before.gzipBytes, r.after.gzipBytes)}${bar('entropy', r.before.entropyBytes, r.after.entropyBytes)}
${table(['measure', 'before', 'after', 'ratio'], sizeRows(r))}
<h2>Per-tensor error</h2>
${r.edits.some((e) => e.changes.length) ? table(CHANGE_HEADER, changeRows(r)) : '<p>No tensor changed.</p>'}
<h2>Accuracy checks</h2>
${r.accuracy.length ? table(ACCURACY_HEADER, accuracyRows(r)) : '<p>None run.</p>'}
</body></html>
`;
}
