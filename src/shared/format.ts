/** Human sizes and counts, as the CLI, the reports and both webviews print them. Browser-safe. */

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** The binary unit a chart axis reaching `max` bytes counts in, so its ticks fall at round values of that unit. */
export function byteAxisUnit(max: number): { readonly name: string; readonly bytes: number } {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let u = 0;
  while (max >= 1024 ** (u + 1) && u < units.length - 1) u++;
  return { name: units[u], bytes: 1024 ** u };
}

export function humanCount(n: number): string {
  if (n < 1000) return String(n);
  if (n < 1e6) return `${(n / 1e3).toFixed(1)}K`;
  if (n < 1e9) return `${(n / 1e6).toFixed(2)}M`;
  return `${(n / 1e9).toFixed(2)}B`;
}

/** Analysis progress in one phrase: layers done of all, and the share of the weights they hold (big layers take longer). */
export function analysisProgress(p: { layersDone: number; layersTotal: number; elementsDone: number; elementsTotal: number }): string {
  return `${p.layersDone} of ${p.layersTotal} layers, ${Math.floor((100 * p.elementsDone) / Math.max(1, p.elementsTotal))}% of the weights`;
}

/** "1 layer", "3 layers"; `many` for words whose plural is not the word plus "s" ("1 entry", "2 entries"). */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A duration in seconds as people gave it: "0.01 s", "2.5 s", "120 s" (never "0 s" for a short one). */
export function humanSeconds(ms: number): string {
  const s = ms / 1000;
  return `${s >= 10 ? Math.round(s) : Number(s.toPrecision(2))} s`;
}

/** A verdict line's first word (PASS, FAIL or NO VERDICT) and the rest, for views that show them apart. */
export function splitVerdict(line: string): { word: string; rest: string } {
  const m = /^(PASS|FAIL|NO VERDICT): /.exec(line);
  return m ? { word: m[1], rest: line.slice(m[0].length) } : { word: '', rest: line };
}

/** The model's size estimates as the CLI, the report and the editor name them, in this order. */
export function estimateParts(e: {
  readonly float16Bytes: number;
  readonly int8PerChannelBytes: number;
  readonly int4PerChannelBytes: number;
  readonly cluster16Bytes: number;
  readonly huffmanInt8Bytes: number | null;
}): string[] {
  return [
    `FP16 ${humanBytes(e.float16Bytes)}`,
    `INT8 per channel ${humanBytes(e.int8PerChannelBytes)}`,
    `INT4 per channel ${humanBytes(e.int4PerChannelBytes)}`,
    `16 clusters ${humanBytes(e.cluster16Bytes)}`,
    ...(e.huffmanInt8Bytes !== null ? [`INT8+Huffman ${humanBytes(e.huffmanInt8Bytes)}`] : []),
  ];
}
