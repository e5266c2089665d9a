/**
 * What the report compares against, in words: the model as opened is the baseline for the whole
 * session (a save does not reset it), and after a save, the file as last saved too. Shared by
 * the report view and the exports (no Node imports).
 */
import type { CompressionReport, SizeFigures } from './compressionReport';
import { humanBytes } from '../shared/format';

const change = (from: SizeFigures, to: SizeFigures): string => `${humanBytes(from.bytes)} → ${humanBytes(to.bytes)}${to.bytes > 0 ? ` (${(from.bytes / to.bytes).toFixed(2)}x)` : ''}`;

const SESSION_NOTE = 'Before: the model as opened in this session (saving does not reset it).';

/** What "before" is: the model as opened in the editor, or the baseline file of a headless report. */
export function baselineNote(r: CompressionReport): string {
  return r.baseline ? `Before: ${r.baseline}, the baseline this model is compared with.` : SESSION_NOTE;
}

export function baselineLines(r: CompressionReport): string[] {
  if (r.baseline) return [`against ${r.baseline}: ${change(r.before, r.after)}`];
  const lines = [`since opened: ${change(r.before, r.after)}`];
  if (r.saved) lines.push(`since last save: ${change(r.saved, r.after)}`);
  return lines;
}
