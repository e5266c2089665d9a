/** Table rows of the Compression Report that the browser view shares with the exports (no Node imports here). */
import type { CompressionReport, SizeFigures } from './compressionReport';
import { humanBytes } from '../shared/format';

const ratio = (before: number, after: number): string => (after > 0 ? `${(before / after).toFixed(2)}x` : '—');
export const db = (v: number | null | undefined): string => (v === null || v === undefined ? 'exact' : Number.isFinite(v) ? `${v.toFixed(1)} dB` : '∞ dB');
export const pct = (v: number | undefined): string => (v === undefined ? '—' : `${(v * 100).toFixed(2)}%`);
export const ms = (v: number | undefined): string => (v === undefined ? '—' : `${v.toFixed(2)} ms`);

/** Rows of the size table: [measure, before, after, ratio]. */
export function sizeRows(r: CompressionReport): string[][] {
  const row = (name: string, key: keyof SizeFigures): string[] => [name, humanBytes(r.before[key]), humanBytes(r.after[key]), ratio(r.before[key], r.after[key])];
  return [row('file (stored)', 'bytes'), row('weights', 'weightBytes'), row('gzip', 'gzipBytes'), row('entropy (order-0)', 'entropyBytes')];
}
