/**
 * The layer table's columns (what each shows, how it sorts) and the number formats its cells use.
 */
import type { TableLayer } from '../../shared/protocol';
import type { TableWeight } from '../../shared/tableLayer';
import { humanBytes } from '../../shared/format';
import type { Row } from './row';

export const fmtBytes = humanBytes;
export const fmtCount = (n: number | null | undefined): string =>
  n === null || n === undefined ? '—' : n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n);
export const fmtDb = (v: number | string | null | undefined): string => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : Number.isFinite(v) ? v.toFixed(1) : v > 0 ? 'exact' : '-inf');

/**
 * The table's columns, in the CLI table's order and with its names (src/report/analysisText.ts).
 * `width` is the default in pixels (a column is never narrower than its header needs); `first`
 * the direction a first click sorts in: the one putting the most compressible layers on top.
 */
export type Column = { title: string; hint: string; width: number; numeric?: boolean; first: 'ascending' | 'descending'; value: (r: Row) => number | string | undefined; text: (r: Row) => string };
/** The columns; `totalBytes` gives the model's weight bytes (for each layer's share). */
export function tableColumns(totalBytes: () => number) {
  return {
  name: { title: 'Layer', hint: 'Layer name (graph-qualified inside subgraphs)', width: 200, first: 'ascending', value: (r: Row) => r.name, text: (r: Row) => r.name },
  opType: { title: 'Op', hint: 'Operator type', width: 90, first: 'ascending', value: (r: Row) => r.opType, text: (r: Row) => r.opType },
  storedAs: { title: 'Stored as', hint: 'How the main weight is stored (quantized and clustered weights are analyzed on their real values)', width: 110, first: 'ascending', value: (r: Row) => r.storedAs.label, text: (r: Row) => r.storedAs.label },
  shapes: { title: 'Weights', hint: 'The stored tensors the layer computes with', width: 170, first: 'descending', value: (r: Row) => r.weights.length, text: (r: Row) => r.weights.map((w) => `[${w.shape.join('×')}] ${w.dataType}`).join(', ') },
  params: { title: 'Params', hint: 'Parameters', width: 76, numeric: true, first: 'descending', value: (r: Row) => r.params, text: (r: Row) => fmtCount(r.params) },
  bytes: { title: 'Bytes', hint: 'Bytes of weights', width: 84, numeric: true, first: 'descending', value: (r: Row) => r.bytes, text: (r: Row) => fmtBytes(r.bytes) },
  share: { title: 'Share', hint: "The layer's part of all weight bytes", width: 70, numeric: true, first: 'descending', value: (r: Row) => share(r, totalBytes()), text: (r: Row) => `${(share(r, totalBytes()) * 100).toFixed(1)}%` },
  macs: { title: 'MACs', hint: 'Multiply-accumulates per inference (— when the shapes are unknown or the op has none counted)', width: 76, numeric: true, first: 'descending', value: (r: Row) => r.analyzed?.macs ?? undefined, text: (r: Row) => fmtCount(r.analyzed?.macs) },
  sparsity: {
    title: 'Zeros',
    hint: 'Fraction of exact zeros in the main weight',
    width: 70,
    numeric: true,
    first: 'descending',
    value: (r: Row) => mainStats(r)?.zeroFraction,
    text: (r: Row) => {
      const z = mainStats(r)?.zeroFraction;
      return z === undefined ? '' : `${(z * 100).toFixed(1)}%`;
    },
  },
  int8: { title: 'INT8 dB', hint: 'SQNR of symmetric per-channel INT8 quantization of the main weight (higher is better; about 40 dB and up is usually harmless)', width: 76, numeric: true, first: 'descending', value: (r: Row) => num(red(r)?.int8SqnrDb), text: (r: Row) => fmtDb(red(r)?.int8SqnrDb) },
  int4: { title: 'INT4 dB', hint: 'SQNR of symmetric per-channel INT4 quantization of the main weight (higher is better)', width: 76, numeric: true, first: 'descending', value: (r: Row) => num(red(r)?.int4SqnrDb), text: (r: Row) => fmtDb(red(r)?.int4SqnrDb) },
  cluster16: { title: 'k16 dB', hint: 'SQNR of 16-way weight clustering (higher is better)', width: 72, numeric: true, first: 'descending', value: (r: Row) => num(red(r)?.cluster16SqnrDb), text: (r: Row) => fmtDb(red(r)?.cluster16SqnrDb) },
  rank90: { title: 'rank90', hint: 'Rank keeping 90% of the singular-value energy (low means low-rank factorization pays)', width: 70, numeric: true, first: 'ascending', value: (r: Row) => red(r)?.rank90 ?? undefined, text: (r: Row) => (red(r)?.rank90 ?? '—').toString() },
  entropy: {
    title: 'H bits',
    hint: 'Entropy of the INT8 codes per weight, in bits (below 8 means entropy coding would shrink them)',
    width: 70,
    numeric: true,
    first: 'ascending',
    value: (r: Row) => red(r)?.entropyBitsInt8,
    text: (r: Row) => (red(r) ? red(r)!.entropyBitsInt8.toFixed(2) : r.analyzed?.deferred ? 'later' : ''),
  },
  } satisfies Record<string, Column>;
}

export type ColumnKey = keyof ReturnType<typeof tableColumns>;

const red = (r: Row): TableLayer['redundancy'] => r.analyzed?.redundancy;
/** The statistics of the weight the redundancy describes (a clustered layer's indices, not its codebook). */
const mainStats = (r: Row): TableWeight['stats'] => (r.analyzed?.weights.find((w) => w.name === red(r)?.weight) ?? r.analyzed?.weights[0])?.stats;

function num(v: number | string | null | undefined): number | undefined {
  return v === null || v === undefined ? undefined : typeof v === 'number' ? v : v === 'Infinity' ? Infinity : -Infinity;
}

/** The layer's part of the model's weight bytes. */
export function share(r: Row, totalBytes: number): number {
  return totalBytes ? r.bytes / totalBytes : 0;
}
