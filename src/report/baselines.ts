/**
 * What the report compares against, in words: the model as opened is the baseline for the whole
 * session (a save does not reset it), and after a save, the file as last saved too. Shared by
 * the report view and the exports (no Node imports).
 */
import type { CompressionReport, SizeFigures } from './compressionReport';
import { humanBytes } from '../shared/format';

const change = (from: SizeFigures, to: SizeFigures): string => `${humanBytes(from.bytes)} → ${humanBytes(to.bytes)}${to.bytes > 0 ? ` (${(from.bytes / to.bytes).toFixed(2)}x)` : ''}`;

export const BASELINE_NOTE = 'Before: the model as opened in this session (saving does not reset it).';

export function baselineLines(r: CompressionReport): string[] {
  const lines = [`since opened: ${change(r.before, r.after)}`];
  if (r.saved) lines.push(`since last save: ${change(r.saved, r.after)}`);
  return lines;
}
