/**
 * Weights summarised for 1-D k-means as value-ordered groups, each with its count, sum and sum of
 * squares (so a group's clustering error is exact for any centroid): runs of equal values from
 * sorted data (equal-count groups when there are too many distinct values), an equal-width
 * histogram, or bins by the top 19 bits of each float32 (`FloatBitBins`): one bin per distinct
 * value for FLOAT16/BFLOAT16 weights, bins 2^-10 of a value's magnitude wide for float32, in one
 * streamed pass with no sort.
 */

export interface MomentGroups {
  readonly count: Float64Array;
  readonly sum: Float64Array;
  readonly sumSq: Float64Array;
  /**
   * 1 where the group is one value repeated (when known): its error about its own mean is exactly
   * 0, where sumSq − sum²/count leaves rounding (a weight already in 16 clusters read 130 dB, not exact).
   */
  readonly single?: Uint8Array;
}

/** An equal-width histogram with per-bin moments, filled chunk by chunk. */
export class MomentHistogram {
  readonly count: Float64Array;
  readonly sum: Float64Array;
  readonly sumSq: Float64Array;
  private readonly scale: number;

  constructor(
    readonly min: number,
    readonly max: number,
    readonly bins = 65536,
  ) {
    this.count = new Float64Array(bins);
    this.sum = new Float64Array(bins);
    this.sumSq = new Float64Array(bins);
    this.scale = max > min ? bins / (max - min) : 0;
  }

  add(values: Float32Array): void {
    const { count, sum, sumSq, scale, min } = this;
    const last = this.bins - 1;
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (!Number.isFinite(x)) continue;
      let k = Math.floor((x - min) * scale);
      if (k > last) k = last;
      else if (k < 0) k = 0;
      count[k]++;
      sum[k] += x;
      sumSq[k] += x * x;
    }
  }

  /** The occupied bins, in value order. */
  groups(): MomentGroups {
    return compact(this.count, this.sum, this.sumSq);
  }
}

function compact(count: Float64Array, sum: Float64Array, sumSq: Float64Array): MomentGroups {
  let n = 0;
  for (let i = 0; i < count.length; i++) if (count[i] > 0) n++;
  const out = { count: new Float64Array(n), sum: new Float64Array(n), sumSq: new Float64Array(n) };
  for (let i = 0, j = 0; i < count.length; i++) {
    if (count[i] === 0) continue;
    out.count[j] = count[i];
    out.sum[j] = sum[i];
    out.sumSq[j] = sumSq[i];
    j++;
  }
  return out;
}

/**
 * Groups from sorted finite values: equal values together; past `maxGroups` distinct values,
 * groups of about n / maxGroups values, none wider than a quarter of the range's maxGroups-th
 * part, so a far outlier is never a group with its neighbours (k-means keeps groups whole: an
 * outlier merged into the tail cost a heavy-tailed layer 2 dB of its 16-cluster figure).
 */
export function groupsFromSorted(sorted: Float32Array, maxGroups = 16384): MomentGroups {
  const n = sorted.length;
  let distinct = n > 0 ? 1 : 0;
  for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  const room = distinct; // a group holds at least one distinct value
  const width = n > 0 ? (sorted[n - 1] - sorted[0]) / (4 * maxGroups) : 0;
  const count = new Float64Array(room);
  const sum = new Float64Array(room);
  const sumSq = new Float64Array(room);
  const single = new Uint8Array(room);
  const perGroup = distinct <= maxGroups ? 0 : n / maxGroups;
  let groups = 0;
  let start = 0;
  while (start < n) {
    let end = start + 1;
    if (perGroup === 0) {
      while (end < n && sorted[end] === sorted[start]) end++;
    } else {
      const limit = Math.min(n, Math.max(end, Math.round(start + perGroup)));
      while (end < limit && sorted[end] - sorted[start] <= width) end++;
      while (end < n && sorted[end] === sorted[end - 1]) end++; // keep equal values together
    }
    let s = 0;
    let q = 0;
    for (let i = start; i < end; i++) {
      s += sorted[i];
      q += sorted[i] * sorted[i];
    }
    count[groups] = end - start;
    sum[groups] = s;
    sumSq[groups] = q;
    single[groups] = sorted[start] === sorted[end - 1] ? 1 : 0;
    groups++;
    start = end;
  }
  return { count: count.subarray(0, groups), sum: sum.subarray(0, groups), sumSq: sumSq.subarray(0, groups), single: single.subarray(0, groups) };
}

/** The top bits of a float32 kept as its bin: sign, exponent and 10 mantissa bits (FLOAT16's 10, BFLOAT16's 7). */
const KEY_SHIFT = 13;
const KEYS = 1 << (32 - KEY_SHIFT);
const NEGATIVE = KEYS >> 1;

/**
 * Moments per float32 bit pattern's top 19 bits, filled chunk by chunk; NaN and Inf skipped.
 * 16 MB of bins: `take` one from the thread's pool; `groups` empties it and gives it back.
 * A bin's fourth slot holds the first value it saw, NaN once it saw another (`single`).
 */
export class FloatBitBins {
  /** count, sum, sum of squares and first value of bin `key` at 4 key ... 4 key + 3: one cache line a value, not four. */
  private readonly bins = new Float64Array(4 * KEYS);
  private static readonly pool: FloatBitBins[] = [];

  /** Empty bins (allocating fresh ones only when every pooled set is in use by another tensor). */
  static take(): FloatBitBins {
    return FloatBitBins.pool.pop() ?? new FloatBitBins();
  }

  add(values: Float32Array): void {
    const bins = this.bins;
    const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
    for (let i = 0; i < values.length; i++) {
      const b = bits[i];
      if ((b & 0x7f800000) === 0x7f800000) continue; // NaN or Inf
      const at = (b >>> KEY_SHIFT) << 2;
      const x = values[i];
      const first = bins[at + 3];
      if (bins[at] === 0) bins[at + 3] = x;
      else if (first !== x && first === first) bins[at + 3] = NaN; // stored once: a mixed bin stays NaN without a store a value
      bins[at]++;
      bins[at + 1] += x;
      bins[at + 2] += x * x;
    }
  }

  /** The occupied bins in value order (negative ones from the largest magnitude down, then -0, +0 and up); leaves the bins empty, back in the pool. */
  groups(): MomentGroups {
    const bins = this.bins;
    let n = 0;
    for (let at = 0; at < bins.length; at += 4) if (bins[at] > 0) n++;
    const out = { count: new Float64Array(n), sum: new Float64Array(n), sumSq: new Float64Array(n), single: new Uint8Array(n) };
    let j = 0;
    const take = (key: number): void => {
      const at = key << 2;
      if (bins[at] === 0) return;
      out.count[j] = bins[at];
      out.sum[j] = bins[at + 1];
      out.sumSq[j] = bins[at + 2];
      out.single[j] = bins[at + 3] === bins[at + 3] ? 1 : 0; // not NaN: one value
      bins[at] = bins[at + 1] = bins[at + 2] = bins[at + 3] = 0;
      j++;
    };
    for (let key = KEYS - 1; key >= NEGATIVE; key--) take(key);
    for (let key = 0; key < NEGATIVE; key++) take(key);
    if (FloatBitBins.pool.length < 2) FloatBitBins.pool.push(this);
    return out;
  }
}

