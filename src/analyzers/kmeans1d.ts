/**
 * One-dimensional k-means (weight clustering, as in Deep Compression), exploiting 1-D:
 * the weights are summarised as value-ordered groups, each with its count, sum and sum of
 * squares, so a group's clustering error is exact for any centroid and the cost of a run of
 * groups is O(1) from prefix sums. An optimal clustering of the groups by dynamic programming
 * (divide and conquer over the monotone split points; on equal-count coarse groups when there
 * are too many for the time budget) seeds Lloyd's iterations over the fine groups.
 *
 * Groups come from sorting the values (exact for tensors up to a few million weights: runs of
 * equal values, or equal-count quantile groups when there are too many distinct values) or, for
 * bigger tensors, from an equal-width histogram streamed chunk by chunk. The only approximation
 * is that a group is assigned as a whole, by its mean.
 */

export interface MomentGroups {
  readonly count: Float64Array;
  readonly sum: Float64Array;
  readonly sumSq: Float64Array;
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

/** Groups from sorted finite values: equal values together, at most `maxGroups` equal-count groups. */
export function groupsFromSorted(sorted: Float32Array, maxGroups = 65536): MomentGroups {
  const n = sorted.length;
  let distinct = n > 0 ? 1 : 0;
  for (let i = 1; i < n; i++) if (sorted[i] !== sorted[i - 1]) distinct++;
  const count: number[] = [];
  const sum: number[] = [];
  const sumSq: number[] = [];
  const perGroup = distinct <= maxGroups ? 0 : n / maxGroups;
  let start = 0;
  while (start < n) {
    let end = start + 1;
    if (perGroup === 0) {
      while (end < n && sorted[end] === sorted[start]) end++;
    } else {
      end = Math.max(end, Math.min(n, Math.round((count.length + 1) * perGroup)));
      while (end < n && sorted[end] === sorted[end - 1]) end++; // keep equal values together
    }
    let s = 0;
    let q = 0;
    for (let i = start; i < end; i++) {
      s += sorted[i];
      q += sorted[i] * sorted[i];
    }
    count.push(end - start);
    sum.push(s);
    sumSq.push(q);
    start = end;
  }
  return { count: Float64Array.from(count), sum: Float64Array.from(sum), sumSq: Float64Array.from(sumSq) };
}

export interface KMeansResult {
  readonly centroids: Float64Array;
  /** Sum of squared errors of clustering the weights. */
  readonly sse: number;
}

/** Merges consecutive groups into at most `target` groups of about equal count. */
function coarsen(g: MomentGroups, target: number): MomentGroups {
  const n = g.count.length;
  if (n <= target) return g;
  let total = 0;
  for (let i = 0; i < n; i++) total += g.count[i];
  const count = new Float64Array(target);
  const sum = new Float64Array(target);
  const sumSq = new Float64Array(target);
  let acc = 0;
  for (let i = 0; i < n; i++) {
    const j = Math.min(target - 1, Math.floor((acc / total) * target));
    acc += g.count[i];
    count[j] += g.count[i];
    sum[j] += g.sum[i];
    sumSq[j] += g.sumSq[i];
  }
  return compact(count, sum, sumSq);
}

/** Prefix sums kept as unevaluated pairs hi + lo (Knuth's two-sum), for exact range differences. */
class DoubleDoublePrefix {
  private readonly hi: Float64Array;
  private readonly lo: Float64Array;

  constructor(values: Float64Array) {
    const n = values.length;
    this.hi = new Float64Array(n + 1);
    this.lo = new Float64Array(n + 1);
    for (let i = 0; i < n; i++) {
      const a = this.hi[i];
      const b = values[i];
      const s = a + b;
      const bb = s - a;
      const err = a - (s - bb) + (b - bb);
      this.hi[i + 1] = s;
      this.lo[i + 1] = this.lo[i] + err;
    }
  }

  /** Sum of values [i, j). */
  range(i: number, j: number): number {
    return this.hi[j] - this.hi[i] + (this.lo[j] - this.lo[i]);
  }
}

/** Optimal k-means of groups (each group kept whole) by DP; returns the centroids. */
function optimalCentroids(g: MomentGroups, k: number): Float64Array {
  const n = g.count.length;
  // Prefix sums in double-double: with heavy tails, the squares of the outliers that come first
  // would otherwise swamp the small differences that decide the clusters in the dense middle.
  const pc = new Float64Array(n + 1);
  const ps = new DoubleDoublePrefix(g.sum);
  const pq = new DoubleDoublePrefix(g.sumSq);
  for (let i = 0; i < n; i++) pc[i + 1] = pc[i] + g.count[i];
  // Error of one cluster made of groups [i, j).
  const cost = (i: number, j: number): number => {
    const c = pc[j] - pc[i];
    if (c === 0) return 0;
    const sum = ps.range(i, j);
    return Math.max(0, pq.range(i, j) - (sum * sum) / c);
  };
  let prev = new Float64Array(n + 1).fill(Infinity);
  prev[0] = 0;
  const split: Int32Array[] = [];
  for (let m = 1; m <= k; m++) {
    const cur = new Float64Array(n + 1).fill(Infinity);
    const arg = new Int32Array(n + 1);
    // cur[j] = min_{i < j} prev[i] + cost(i, j); the best i is monotone in j.
    const solve = (lo: number, hi: number, optLo: number, optHi: number): void => {
      if (lo > hi) return;
      const mid = (lo + hi) >> 1;
      let best = Infinity;
      let bestI = optLo;
      for (let i = optLo; i <= Math.min(mid - 1, optHi); i++) {
        const v = prev[i] + cost(i, mid);
        if (v < best) {
          best = v;
          bestI = i;
        }
      }
      cur[mid] = best;
      arg[mid] = bestI;
      solve(lo, mid - 1, optLo, bestI);
      solve(mid + 1, hi, bestI, optHi);
    };
    solve(m, n, m - 1, n - 1);
    split.push(arg);
    prev = cur;
  }
  const centroids = new Float64Array(k);
  let j = n;
  for (let m = k; m >= 1; m--) {
    const i = split[m - 1][j];
    centroids[m - 1] = ps.range(i, j) / (pc[j] - pc[i]);
    j = i;
  }
  return centroids;
}

/** k-means of the groups: DP (on coarse groups when there are too many), then Lloyd on all groups. */
export function kmeans1d(g: MomentGroups, k: number, options: { coarseGroups?: number; maxIterations?: number } = {}): KMeansResult {
  const n = g.count.length;
  const sseOf = (assign: Int32Array, centroids: Float64Array): number => {
    let sse = 0;
    for (let i = 0; i < n; i++) {
      const c = centroids[assign[i]];
      sse += Math.max(0, g.sumSq[i] - 2 * c * g.sum[i] + g.count[i] * c * c);
    }
    return sse;
  };
  if (n === 0) return { centroids: new Float64Array(0), sse: 0 };
  if (n <= k) {
    const centroids = Float64Array.from(g.sum, (s, i) => s / g.count[i]);
    return { centroids, sse: sseOf(Int32Array.from({ length: n }, (_, i) => i), centroids) };
  }
  // The DP costs about k·n·log2(n) steps: run it on every group when that is affordable,
  // otherwise on equal-count coarse groups, and let Lloyd refine on the fine groups.
  const affordable = k * n * Math.log2(n) <= 5e7;
  const coarse = options.coarseGroups ?? (affordable ? n : Math.max(4096, Math.floor(5e7 / (k * 16))));
  const centroids = optimalCentroids(coarsen(g, coarse), k);
  const assign = new Int32Array(n);
  const assignAll = (): void => {
    // Groups and centroids are both in value order: one sweep.
    let c = 0;
    for (let i = 0; i < n; i++) {
      const x = g.sum[i] / g.count[i];
      while (c < k - 1 && Math.abs(centroids[c + 1] - x) <= Math.abs(centroids[c] - x)) c++;
      assign[i] = c;
    }
  };
  const maxIterations = options.maxIterations ?? 100;
  for (let it = 0; it < maxIterations; it++) {
    assignAll();
    const cs = new Float64Array(k);
    const cc = new Float64Array(k);
    for (let i = 0; i < n; i++) {
      cs[assign[i]] += g.sum[i];
      cc[assign[i]] += g.count[i];
    }
    let moved = false;
    for (let j = 0; j < k; j++) {
      if (cc[j] === 0) continue; // an empty cluster keeps its place
      const next = cs[j] / cc[j];
      if (next !== centroids[j]) moved = true;
      centroids[j] = next;
    }
    centroids.sort();
    if (!moved) break;
  }
  assignAll();
  return { centroids, sse: sseOf(assign, centroids) };
}
