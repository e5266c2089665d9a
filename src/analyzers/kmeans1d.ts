/**
 * One-dimensional k-means (weight clustering, as in Deep Compression), exploiting 1-D:
 * the weights are summarised as value-ordered groups, each with its count, sum and sum of
 * squares, so a group's clustering error is exact for any centroid and the cost of a run of
 * groups is O(1) from prefix sums. An optimal clustering of the groups by dynamic programming
 * (divide and conquer over the monotone split points) of at most 1,024 groups, coarsened by
 * Ward's criterion when there are more, seeds Lloyd's iterations over all the groups.
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
export function groupsFromSorted(sorted: Float32Array, maxGroups = 16384): MomentGroups {
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

/**
 * Merges neighbouring groups, cheapest merge first (Ward's criterion: the increase in squared
 * error), until `target` groups remain. Dense runs merge; isolated outliers stay apart, which is
 * what the clustering that follows needs.
 */
export function coarsen(g: MomentGroups, target: number): MomentGroups {
  const n = g.count.length;
  if (n <= target) return g;
  const count = Float64Array.from(g.count);
  const sum = Float64Array.from(g.sum);
  const sumSq = Float64Array.from(g.sumSq);
  const next = Int32Array.from({ length: n }, (_, i) => (i + 1 < n ? i + 1 : -1));
  const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
  const alive = new Uint8Array(n).fill(1);
  const version = new Int32Array(n);
  const mergeCost = (i: number, j: number): number => {
    const d = sum[i] / count[i] - sum[j] / count[j];
    return ((count[i] * count[j]) / (count[i] + count[j])) * d * d;
  };
  // Heap entries: the pair (i, next[i]) with its cost, valid while i's version is unchanged. At
  // most n - 1 first offers and two per merge. A heap of its own on typed arrays, ordered by
  // (cost, left): the shared MinHeap's comparator call per step made this 5x slower.
  const capacity = 3 * n;
  const costs = new Float64Array(capacity);
  const lefts = new Int32Array(capacity);
  const versions = new Int32Array(capacity);
  const heap = new Int32Array(capacity);
  let entries = 0;
  let size = 0;
  const before = (a: number, b: number): boolean => costs[a] < costs[b] || (costs[a] === costs[b] && lefts[a] < lefts[b]);
  const offer = (i: number): void => {
    if (next[i] < 0) return;
    const e = entries++;
    costs[e] = mergeCost(i, next[i]);
    lefts[e] = i;
    versions[e] = version[i];
    let at = size++;
    while (at > 0) {
      const up = (at - 1) >> 1;
      if (!before(e, heap[up])) break;
      heap[at] = heap[up];
      at = up;
    }
    heap[at] = e;
  };
  const pop = (): number => {
    const top = heap[0];
    const last = heap[--size];
    let at = 0;
    for (;;) {
      const l = 2 * at + 1;
      if (l >= size) break;
      const r = l + 1;
      const child = r < size && before(heap[r], heap[l]) ? r : l;
      if (!before(heap[child], last)) break;
      heap[at] = heap[child];
      at = child;
    }
    heap[at] = last;
    return top;
  };
  for (let i = 0; i < n - 1; i++) offer(i);
  let groups = n;
  while (groups > target && size > 0) {
    const e = pop();
    const i = lefts[e];
    if (!alive[i] || versions[e] !== version[i] || next[i] < 0) continue;
    const j = next[i];
    count[i] += count[j];
    sum[i] += sum[j];
    sumSq[i] += sumSq[j];
    alive[j] = 0;
    next[i] = next[j];
    if (next[j] >= 0) prev[next[j]] = i;
    groups--;
    version[i]++;
    offer(i);
    const p = prev[i];
    if (p >= 0) {
      version[p]++;
      offer(p);
    }
  }
  const out = { count: new Float64Array(groups), sum: new Float64Array(groups), sumSq: new Float64Array(groups) };
  for (let i = 0, k = 0; i < n; i++) {
    if (!alive[i]) continue;
    out.count[k] = count[i];
    out.sum[k] = sum[i];
    out.sumSq[k] = sumSq[i];
    k++;
  }
  return out;
}

/** Prefix sums kept as unevaluated pairs hi + lo (Knuth's two-sum), for exact range differences. */
class DoubleDoublePrefix {
  readonly hi: Float64Array;
  readonly lo: Float64Array;

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

interface DpRow {
  /** Best cost of m - 1 clusters of the first i groups, and its last split. */
  readonly prev: Float64Array;
  readonly prevArg: Int32Array;
  /** Filled: best cost of m clusters of the first j groups, and its last split. */
  readonly cur: Float64Array;
  readonly arg: Int32Array;
  /** Prefix counts, and double-double prefix sums of values and squares. */
  readonly pc: Float64Array;
  readonly sHi: Float64Array;
  readonly sLo: Float64Array;
  readonly qHi: Float64Array;
  readonly qLo: Float64Array;
  readonly stack: Int32Array;
}

/**
 * One row of the DP: cur[j] = min over i < j of prev[i] + cost(i, j). The best i never decreases
 * as j grows, so the row is solved by divide and conquer in O(n log n) cost evaluations; nor does
 * it decrease from m - 1 clusters to m (the cost is Monge), so the previous row's split bounds the
 * search from below, which makes the rows of large k nearly linear. A function of its own, free
 * of allocations, so V8 optimizes it once instead of re-entering a half-optimized caller.
 */
function solveRow(m: number, n: number, r: DpRow): void {
  const { prev, prevArg, cur, arg, pc, sHi, sLo, qHi, qLo, stack } = r;
  stack[0] = m;
  stack[1] = n;
  stack[2] = m - 1;
  stack[3] = n - 1;
  let top = 4;
  while (top > 0) {
    const optHi = stack[--top];
    const optLo = stack[--top];
    const hi = stack[--top];
    const lo = stack[--top];
    const mid = (lo + hi) >> 1;
    let best = Infinity;
    const first = Math.max(optLo, prevArg[mid]);
    let bestI = first;
    const last = Math.min(mid - 1, optHi);
    const cj = pc[mid];
    const sjHi = sHi[mid];
    const sjLo = sLo[mid];
    const qjHi = qHi[mid];
    const qjLo = qLo[mid];
    for (let i = first; i <= last; i++) {
      const base = prev[i];
      if (base === Infinity) continue;
      const c = cj - pc[i];
      const sum = sjHi - sHi[i] + (sjLo - sLo[i]);
      const err = qjHi - qHi[i] + (qjLo - qLo[i]) - (sum * sum) / c;
      const v = base + (err > 0 ? err : 0);
      if (v < best) {
        best = v;
        bestI = i;
      }
    }
    cur[mid] = best;
    arg[mid] = bestI;
    if (lo < mid) {
      stack[top++] = lo;
      stack[top++] = mid - 1;
      stack[top++] = optLo;
      stack[top++] = bestI;
    }
    if (mid < hi) {
      stack[top++] = mid + 1;
      stack[top++] = hi;
      stack[top++] = bestI;
      stack[top++] = optHi;
    }
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
  let prev = new Float64Array(n + 1).fill(Infinity);
  prev[0] = 0;
  let prevArg = new Int32Array(n + 1);
  // Depth-first over halving ranges: at most ~2·log2(n) pending ranges of four numbers each.
  const stack = new Int32Array(4 * (2 * Math.ceil(Math.log2(n + 2)) + 4));
  const split: Int32Array[] = [];
  for (let m = 1; m <= k; m++) {
    const cur = new Float64Array(n + 1).fill(Infinity);
    const arg = new Int32Array(n + 1);
    solveRow(m, n, { prev, prevArg, cur, arg, pc, sHi: ps.hi, sLo: ps.lo, qHi: pq.hi, qLo: pq.lo, stack });
    split.push(arg);
    prev = cur;
    prevArg = arg;
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

/**
 * k-means of the groups: the optimal clustering of `coarse` (by default the groups themselves,
 * or at most 1,024 groups coarsened from them) seeds Lloyd's iterations over all groups. Pass
 * the same `coarse` for several k to coarsen once.
 */
export function kmeans1d(g: MomentGroups, k: number, options: { coarse?: MomentGroups; maxIterations?: number } = {}): KMeansResult {
  const n = g.count.length;
  const sseOf = (assign: Int32Array, centroids: Float64Array): number => groupSse(g, assign, centroids);
  if (n === 0) return { centroids: new Float64Array(0), sse: 0 };
  if (n <= k) {
    const centroids = Float64Array.from(g.sum, (s, i) => s / g.count[i]);
    return { centroids, sse: sseOf(Int32Array.from({ length: n }, (_, i) => i), centroids) };
  }
  const coarse = options.coarse ?? coarsen(g, COARSE_GROUPS);
  const centroids = coarse.count.length > k ? optimalCentroids(coarse, k) : Float64Array.from(coarse.sum, (s, i) => s / coarse.count[i]);
  if (centroids.length < k) {
    // As many clusters as coarse groups: Lloyd below only needs k sorted starting points.
    const padded = new Float64Array(k).fill(centroids[centroids.length - 1]);
    padded.set(centroids);
    return lloyd(g, padded, options.maxIterations ?? 100, sseOf);
  }
  return lloyd(g, centroids, options.maxIterations ?? 100, sseOf);
}

/** Squared error of clustering the groups with the given assignment. */
function groupSse(g: MomentGroups, assign: Int32Array, centroids: Float64Array): number {
  let sse = 0;
  for (let i = 0; i < g.count.length; i++) {
    const c = centroids[assign[i]];
    sse += Math.max(0, g.sumSq[i] - 2 * c * g.sum[i] + g.count[i] * c * c);
  }
  return sse;
}

/** Lloyd's iterations over the groups from the given starting centroids (any order). */
export function lloydFrom(g: MomentGroups, start: Float64Array, maxIterations = 100): KMeansResult {
  return lloyd(g, Float64Array.from(start).sort(), maxIterations, (assign, centroids) => groupSse(g, assign, centroids));
}

/** The DP costs about k · groups · log2(groups) steps: 1,024 groups keep k = 256 under 3 M. */
export const COARSE_GROUPS = 1024;

function lloyd(
  g: MomentGroups,
  centroids: Float64Array,
  maxIterations: number,
  sseOf: (assign: Int32Array, centroids: Float64Array) => number,
): KMeansResult {
  const n = g.count.length;
  const k = centroids.length;
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
