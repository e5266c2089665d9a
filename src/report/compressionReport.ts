/**
 * The Compression Report: the model's size before and after the edits in effect (as stored, as
 * gzip would ship it, and as an order-0 entropy coder could at best), what each edit did to each
 * tensor, and the accuracy checks run on it. Built from plain data so the editor's side panel,
 * its exports (Markdown, HTML, JSON) and tests share one definition.
 */
import * as zlib from 'node:zlib';
import type { Edit } from '../transforms/apply';
import type { ChangeHistogram } from '../transforms/transform';
import { humanBytes } from './format';
import { db, ms, pct, sizeRows } from './reportRows';
import { BASELINE_NOTE, baselineLines } from './baselines';
export { sizeRows };

export interface SizeFigures {
  /** The model file's protobuf bytes (external data not included). */
  readonly bytes: number;
  /** Bytes of stored weights (initializers, constants), inline or external. */
  readonly weightBytes: number;
  /** gzip -6 of the file bytes: what a download would ship. */
  readonly gzipBytes: number;
  /** Order-0 (byte-wise) Shannon entropy of the file bytes: the floor for a simple entropy coder. */
  readonly entropyBytes: number;
}

export interface TensorChangeRow {
  readonly layer: string;
  readonly opType: string;
  readonly tensor: string;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** null: exact (or not a weight-value change, e.g. a layout change). */
  readonly sqnrDb: number | null;
  readonly maxError: number | null;
  /** Old and new values on common bins (the editor overlays them; reports leave them out). */
  readonly histogram?: ChangeHistogram;
}

export interface ReportEdit {
  readonly label: string;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly worstSqnrDb: number | null;
  readonly skipped: number;
  readonly changes: readonly TensorChangeRow[];
}

/** An edit as the editor lists it and the report shows it. */
export interface EditView extends ReportEdit {
  readonly layers: readonly string[];
}

export function editView(edit: Edit): EditView {
  const changes = edit.result.changed.flatMap((c) =>
    c.tensors.map(
      (t): TensorChangeRow => ({
        layer: c.layer,
        opType: c.opType,
        tensor: t.tensor,
        bytesBefore: t.bytesBefore,
        bytesAfter: t.bytesAfter,
        sqnrDb: typeof t.sqnrDb === 'number' ? t.sqnrDb : null,
        maxError: t.maxError ?? null,
        histogram: t.histogram,
      }),
    ),
  );
  const finite = changes.map((c) => c.sqnrDb).filter((s): s is number => s !== null);
  return {
    label: edit.label,
    layers: edit.result.changed.map((c) => c.layer),
    bytesBefore: edit.result.bytesBefore,
    bytesAfter: edit.result.bytesAfter,
    worstSqnrDb: finite.length ? finite.reduce((a, b) => Math.min(a, b)) : null,
    skipped: edit.result.skipped.length,
    changes,
  };
}

/** One accuracy check of the edited model against the file on disk. */
export interface AccuracyCheck {
  readonly when: string;
  /** Edit labels in effect when it ran. */
  readonly edits: readonly string[];
  readonly dataset: string;
  readonly samples: number;
  /** No labels: agreement and output error only. */
  readonly synthetic: boolean;
  readonly candidateBytes: number;
  readonly baselineAccuracy?: number;
  readonly candidateAccuracy?: number;
  readonly agreement?: number;
  readonly outputSqnrDb?: number;
  readonly maxAbsError?: number;
  readonly baselineLatencyMs?: number;
  readonly candidateLatencyMs?: number;
}

export interface CompressionReport {
  readonly model: string;
  readonly generated: string;
  /** The model as opened: the session's baseline, kept across saves. */
  readonly before: SizeFigures;
  /** The file as last saved in this session, when it was ("since last save"). */
  readonly saved?: SizeFigures;
  readonly after: SizeFigures;
  readonly edits: readonly ReportEdit[];
  readonly accuracy: readonly AccuracyCheck[];
}

/**
 * Size figures of serialized model bytes, given as the parts an encoder produced (no copy into
 * one buffer). gzip runs on libuv's thread pool, not the caller's thread; with a signal, the byte
 * count yields to the event loop every 8 MB (a 100 MB model would otherwise hold the caller's
 * thread for a tenth of a second) and an abort stops both.
 */
export async function measureSizes(parts: readonly Uint8Array[], weightBytes: number, signal?: AbortSignal): Promise<SizeFigures> {
  const counts = new Float64Array(256);
  let bytes = 0;
  const gzipBytes = gzipLength(parts, signal); // runs meanwhile
  gzipBytes.catch(() => undefined); // an abort rejects it before it is awaited; the await below still throws
  try {
    let sinceYield = 0; // an encoder gives one part per tensor: yield by bytes counted, not per part
    for (const p of parts) {
      for (let start = 0; start < p.length; start += COUNT_SLICE) {
        const end = Math.min(p.length, start + COUNT_SLICE);
        for (let i = start; i < end; i++) counts[p[i]]++;
        sinceYield += end - start;
        if (signal && sinceYield >= COUNT_SLICE) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
          signal.throwIfAborted();
        }
      }
      bytes += p.length;
    }
  } finally {
    if (signal?.aborted) await gzipBytes.catch(() => undefined); // let gzip's stream close before reporting the abort
  }
  return { bytes, weightBytes, gzipBytes: await gzipBytes, entropyBytes: Math.ceil(entropyBits(counts, bytes) / 8) };
}

const COUNT_SLICE = 8 * 1024 * 1024;

async function gzipLength(parts: readonly Uint8Array[], signal?: AbortSignal): Promise<number> {
  signal?.throwIfAborted();
  const zip = zlib.createGzip({ level: 6 });
  let length = 0;
  zip.on('data', (chunk: Buffer) => (length += chunk.length));
  const done = new Promise<void>((resolve, reject) => {
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.on('close', () => (signal?.aborted ? reject(signal.reason) : undefined));
  });
  const stop = (): void => void zip.destroy();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for (const p of parts) {
      if (signal?.aborted) break;
      if (!zip.write(p)) await Promise.race([new Promise((resolve) => zip.once('drain', resolve)), done]);
    }
    zip.end();
    await done;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  return length;
}

/** Total information of `total` bytes under their own byte frequencies, in bits. */
export function entropyBits(counts: Float64Array, total: number): number {
  let bits = 0;
  for (const c of counts) if (c > 0) bits -= c * Math.log2(c / total);
  return bits;
}

function accuracyRows(r: CompressionReport): string[][] {
  return r.accuracy.map((a) => [
    a.when,
    a.dataset,
    String(a.samples),
    a.synthetic ? 'fidelity only' : `${pct(a.baselineAccuracy)} → ${pct(a.candidateAccuracy)}`,
    pct(a.agreement),
    db(a.outputSqnrDb),
    `${ms(a.baselineLatencyMs)} → ${ms(a.candidateLatencyMs)}`,
  ]);
}

const ACCURACY_HEADER = ['when', 'data', 'samples', 'top-1 before → after', 'agreement', 'output SQNR', 'latency before → after'];
const CHANGE_HEADER = ['edit', 'layer', 'op', 'tensor', 'before', 'after', 'SQNR', 'max error'];

function changeRows(r: CompressionReport): string[][] {
  return r.edits.flatMap((e) =>
    e.changes.map((c) => [e.label, c.layer, c.opType, c.tensor, humanBytes(c.bytesBefore), humanBytes(c.bytesAfter), db(c.sqnrDb), c.maxError === null ? '—' : c.maxError.toPrecision(3)]),
  );
}

export function reportMarkdown(r: CompressionReport): string {
  const cell = (s: string): string => s.replace(/\|/g, '\\|');
  const table = (header: string[], rows: string[][]): string =>
    [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`)].join('\n');
  const parts = [
    `# Compression report: ${r.model}`,
    `Generated ${r.generated}. ${r.edits.length} edit(s) in effect.`,
    '## Size',
    [BASELINE_NOTE, ...baselineLines(r).map((l) => `- ${l}`)].join('\n'),
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
<h1>Compression report: ${escapeHtml(r.model)}</h1>
<p>Generated ${escapeHtml(r.generated)}. ${r.edits.length} edit(s) in effect. Grey: before, green: after.</p>
<h2>Size</h2>
<p>${escapeHtml(BASELINE_NOTE)}</p><ul>${baselineLines(r).map((l) => `<li>${escapeHtml(l)}</li>`).join('')}</ul>
${bar('file', r.before.bytes, r.after.bytes)}${bar('gzip', r.before.gzipBytes, r.after.gzipBytes)}${bar('entropy', r.before.entropyBytes, r.after.entropyBytes)}
${table(['measure', 'before', 'after', 'ratio'], sizeRows(r))}
<h2>Per-tensor error</h2>
${r.edits.some((e) => e.changes.length) ? table(CHANGE_HEADER, changeRows(r)) : '<p>No tensor changed.</p>'}
<h2>Accuracy checks</h2>
${r.accuracy.length ? table(ACCURACY_HEADER, accuracyRows(r)) : '<p>None run.</p>'}
</body></html>
`;
}
