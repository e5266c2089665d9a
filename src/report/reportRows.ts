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

export function accuracyRows(r: CompressionReport): string[][] {
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

export const ACCURACY_HEADER = ['when', 'data', 'samples', 'top-1 before → after', 'agreement', 'output SQNR', 'latency before → after'];
export const CHANGE_HEADER = ['edit', 'layer', 'op', 'tensor', 'before', 'after', 'SQNR', 'max error'];

export function changeRows(r: CompressionReport): string[][] {
  return r.edits.flatMap((e) =>
    e.changes.map((c) => [e.label, c.layer, c.opType, c.tensor, humanBytes(c.bytesBefore), humanBytes(c.bytesAfter), db(c.sqnrDb), c.maxError === null ? '—' : c.maxError.toPrecision(3)]),
  );
}
