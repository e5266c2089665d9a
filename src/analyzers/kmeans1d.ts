import type { MomentGroups } from './momentGroups';

export { FloatBitBins, MomentHistogram, groupsFromSorted, type MomentGroups } from './momentGroups';

/**
 * One-dimensional k-means (weight clustering, as in Deep Compression), exploiting 1-D: the
 * weights come as value-ordered groups (momentGroups.ts), each with its count, sum and sum of
 * squares, so a group's clustering error is exact for any centroid and the cost of a run of
 * groups is O(1) from prefix sums. The optimal clustering of at most 1,024 groups (coarsened by
 * the equal-error partition when there are more) by dynamic programming seeds Lloyd's
 * iterations over all the groups. The only approximation is that a group is assigned as a whole,
 * by its mean: every result is an actual clustering's error, never below the optimum.
 */


export interface KMeansResult {
  readonly centroids: Float64Array;
  /** Sum of squared errors of clustering the weights. */
  readonly sse: number;
}

/**
 * Merges runs of neighbouring groups into at most `target` groups, making the largest squared
 * error of a merged group as small as it can be: the smallest error budget for which one sweep
 * (each run grown while its squared error stays within the budget) makes at most `target` runs,
 * found by bisection. Dense stretches become narrow groups and far-apart outliers stay apart,
 * and for many clusters equal error per cluster is what the optimal clustering tends to
 * (high-resolution quantization theory), so the result also seeds k = 256 directly. O(n) a sweep.
 */
export function coarsen(g: MomentGroups, target: number): MomentGroups {
  const n = g.count.length;
  if (n <= target) return g;
  const { count, sum, sumSq } = g;
  // each group's own squared error and mean, for Chan's update of a run's (count, mean, error)
  const own = new Float64Array(n);
  const mean = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    mean[i] = sum[i] / count[i];
    own[i] = Math.max(0, sumSq[i] - sum[i] * mean[i]);
  }
  const ends = new Int32Array(target);
  /** Runs the sweep makes within `budget` (stops counting past `target`), ends written into `ends`. */
  const sweep = (budget: number): number => {
    let runs = 0;
    let c = count[0];
    let m = mean[0];
    let e = own[0];
    for (let i = 1; i < n; i++) {
      const ci = count[i];
      const d = mean[i] - m;
      const merged = e + own[i] + ((c * ci) / (c + ci)) * d * d;
      if (merged <= budget) {
        m += (d * ci) / (c + ci);
        c += ci;
        e = merged;
        continue;
      }
      if (runs === target - 1) return target + 1;
      ends[runs++] = i;
      c = ci;
      m = mean[i];
      e = own[i];
    }
    ends[runs++] = n;
    return runs;
  };
  let lo = 0; // too small a budget
  let hi = 0;
  for (let i = 0; i < n; i++) hi += count[i] * mean[i] * mean[i] + own[i]; // >= the error of one run
  for (let step = 0; step < 64 && hi > lo * (1 + 1e-9); step++) {
    const mid = lo > 0 ? Math.sqrt(lo * hi) : hi / 1024;
    const made = sweep(mid);
    if (made <= target) hi = mid;
    else lo = mid;
    if (made <= target && made >= target - (target >> 5)) break; // within 3%: the DP and Lloyd refine the rest
  }
  let runs = sweep(hi);
  while (runs > target) runs = sweep((hi *= 2)); // rounding in the running errors
  const out = { count: new Float64Array(runs), sum: new Float64Array(runs), sumSq: new Float64Array(runs) };
  for (let r = 0, i = 0; r < runs; r++) {
    for (; i < ends[r]; i++) {
      out.count[r] += count[i];
      out.sum[r] += sum[i];
      out.sumSq[r] += sumSq[i];
    }
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
function solveRow(m: number, last: number, r: DpRow): void {
  const { prevArg, stack } = r;
  stack[0] = m;
  stack[1] = last;
  stack[2] = m - 1;
  stack[3] = last - 1;
  let top = 4;
  while (top > 0) {
    const optHi = stack[--top];
    const optLo = stack[--top];
    const hi = stack[--top];
    const lo = stack[--top];
    const mid = (lo + hi) >> 1;
    const bestI = solveCell(r, mid, Math.max(optLo, prevArg[mid]), Math.min(mid - 1, optHi));
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

/**
 * One row of the DP by Knuth's bounds: split(m - 1, j) <= split(m, j) <= split(m, j + 1) (the
 * cost is Monge), so with j going down each cell searches only between the two. Cheaper than
 * divide and conquer once clusters are few groups each (k = 256 on 512 groups: a few a cell).
 */
function solveRowKnuth(m: number, last: number, r: DpRow): void {
  let upper = last - 1;
  for (let j = last; j >= m; j--) upper = solveCell(r, j, Math.max(m - 1, r.prevArg[j]), Math.min(upper, j - 1));
}

/** cur[j] and arg[j]: the best last split i in [first, end] (the first of equals); returns it. */
function solveCell(r: DpRow, j: number, first: number, end: number): number {
  const { prev, pc, sHi, sLo, qHi, qLo } = r;
  let best = Infinity;
  let bestI = first;
  const cj = pc[j];
  const sjHi = sHi[j];
  const sjLo = sLo[j];
  const qjHi = qHi[j];
  const qjLo = qLo[j];
  for (let i = first; i <= end; i++) {
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
  r.cur[j] = best;
  r.arg[j] = bestI;
  return bestI;
}

/**
 * Optimal k-means of groups (each group kept whole) by DP, for every k in `ks` (each below the
 * group count) from one DP: row m holds the best m-cluster costs of every prefix, so the rows up
 * to the largest k answer the smaller ones too. Returns the centroids for each k.
 */
function optimalCentroids(g: MomentGroups, ks: readonly number[]): Float64Array[] {
  const n = g.count.length;
  const kMax = Math.max(...ks);
  // Prefix sums in double-double: with heavy tails, the squares of the outliers that come first
  // would otherwise swamp the small differences that decide the clusters in the dense middle.
  const pc = new Float64Array(n + 1);
  const ps = new DoubleDoublePrefix(g.sum);
  const pq = new DoubleDoublePrefix(g.sumSq);
  for (let i = 0; i < n; i++) pc[i + 1] = pc[i] + g.count[i];
  // Two cost rows, swapped; every row's splits in one allocation (the GC had been a third of it).
  let prev = new Float64Array(n + 1).fill(Infinity);
  prev[0] = 0;
  let cur = new Float64Array(n + 1);
  const splits = new Int32Array(kMax * (n + 1));
  let prevArg = new Int32Array(n + 1);
  // Depth-first over halving ranges: at most ~2·log2(n) pending ranges of four numbers each.
  const stack = new Int32Array(4 * (2 * Math.ceil(Math.log2(n + 2)) + 4));
  const split: Int32Array[] = [];
  for (let m = 1; m <= kMax; m++) {
    cur.fill(Infinity);
    const arg = splits.subarray((m - 1) * (n + 1), m * (n + 1));
    // Row m is read at j = n - (k - m) at most (the k - m clusters after it need a group each);
    // its cells beyond stay Infinity, their arg 0, a valid lower bound for the next row.
    const k = Math.min(...ks.filter((x) => x >= m));
    const last = n - (k - m);
    const row = { prev, prevArg, cur, arg, pc, sHi: ps.hi, sLo: ps.lo, qHi: pq.hi, qLo: pq.lo, stack };
    // Knuth's bounds cost about 1 + j / (m (m - 1)) evaluations a cell, divide and conquer log2 of the row's width.
    if (m > 1 && 1 + last / (m * (m - 1)) < Math.log2(last - m + 2)) solveRowKnuth(m, last, row);
    else solveRow(m, last, row);
    split.push(arg);
    [prev, cur] = [cur, prev];
    prevArg = arg;
  }
  return ks.map((k) => {
    const centroids = new Float64Array(k);
    let j = n;
    for (let m = k; m >= 1; m--) {
      const i = split[m - 1][j];
      centroids[m - 1] = ps.range(i, j) / (pc[j] - pc[i]);
      j = i;
    }
    return centroids;
  });
}

export interface KMeansOptions {
  /** The groups the DP runs on (default: at most COARSE_GROUPS coarsened from the groups); pass the same for several calls. */
  coarse?: MomentGroups;
  maxIterations?: number;
}

/**
 * k-means of the groups: the optimal clustering of `coarse` (by default the groups themselves,
 * or at most 1,024 groups coarsened from them) seeds Lloyd's iterations over all groups.
 */
export function kmeans1d(g: MomentGroups, k: number, options: KMeansOptions = {}): KMeansResult {
  return kmeans1dEach(g, [k], options)[0];
}

/** kmeans1d for several k at once: one coarsening, one DP (its rows up to the largest k), Lloyd for each. */
export function kmeans1dEach(g: MomentGroups, ks: readonly number[], options: KMeansOptions = {}): KMeansResult[] {
  const n = g.count.length;
  const maxIterations = options.maxIterations ?? 100;
  const means = new Float64Array(n);
  for (let i = 0; i < n; i++) means[i] = g.sum[i] / g.count[i];
  const results: (KMeansResult | undefined)[] = ks.map((k) => {
    if (n === 0) return { centroids: new Float64Array(0), sse: 0 };
    if (n <= k) return lloyd(g, means, means.slice(), 0); // every group its own cluster
    return undefined;
  });
  const open = ks.filter((_, i) => results[i] === undefined);
  if (open.length === 0) return results as KMeansResult[];
  const coarse = options.coarse ?? coarsen(g, COARSE_GROUPS);
  const groups = coarse.count.length;
  const solved = open.filter((k) => groups > k && k * groups <= DP_WORK);
  const seeds = solved.length > 0 ? optimalCentroids(coarse, solved) : [];
  return ks.map((k, i) => {
    const done = results[i];
    if (done) return done;
    let start: Float64Array;
    if (solved.includes(k)) start = seeds[solved.indexOf(k)];
    else if (groups > k) {
      // too many clusters for a DP on `coarse`: one on fewer groups (k = 256: 512 groups)
      const fewer = coarsen(coarse, Math.max(k + 1, Math.floor(DP_WORK / k)));
      start = optimalCentroids(fewer, [k])[0];
    } else {
      // As many clusters as coarse groups: Lloyd below only needs k sorted starting points.
      start = new Float64Array(k);
      for (let c = 0; c < k; c++) start[c] = coarse.sum[Math.min(c, groups - 1)] / coarse.count[Math.min(c, groups - 1)];
    }
    return lloyd(g, means, start, maxIterations);
  });
}

/** Lloyd's iterations over the groups from the given starting centroids (any order). */
export function lloydFrom(g: MomentGroups, start: Float64Array, maxIterations = 100): KMeansResult {
  const means = new Float64Array(g.count.length);
  for (let i = 0; i < means.length; i++) means[i] = g.sum[i] / g.count[i];
  return lloyd(g, means, Float64Array.from(start).sort(), maxIterations);
}

/** The DP runs on at most this many groups (coarsened when there are more). */
export const COARSE_GROUPS = 1024;

/**
 * The DP (about k · groups · log2(groups) steps) runs when k · groups is at most this: k = 4
 * and 16 on 1,024 groups, k = 256 only on up to 512 (where it is the exact optimum of the
 * groups); a larger k starts from the equal-error partition instead (see coarsen).
 */
const DP_WORK = 1 << 17;

/**
 * Lloyd's iterations on value-ordered groups from sorted centroids. Each cluster is a run of
 * groups, so an iteration is k binary searches for the runs' ends (a group goes to the upper
 * centroid when it is at least as near, as a sweep would decide) and k range sums: O(k log n)
 * instead of O(n). Returns the centroids and the squared error of that assignment.
 */
function lloyd(g: MomentGroups, means: Float64Array, centroids: Float64Array, maxIterations: number): KMeansResult {
  const n = means.length;
  const k = centroids.length;
  const ends = new Int32Array(k);
  const pc = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) pc[i + 1] = pc[i] + g.count[i];
  const ps = new DoubleDoublePrefix(g.sum);
  const findEnds = (): void => {
    let from = 0;
    for (let c = 0; c < k - 1; c++) {
      const lower = centroids[c];
      const upper = centroids[c + 1];
      // first group at least as near the upper centroid (never before the previous run's end)
      let lo = from;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (Math.abs(upper - means[mid]) <= Math.abs(lower - means[mid])) hi = mid;
        else lo = mid + 1;
      }
      ends[c] = lo;
      from = lo;
    }
    ends[k - 1] = n;
  };
  for (let it = 0; it < maxIterations; it++) {
    findEnds();
    let moved = false;
    for (let c = 0, from = 0; c < k; from = ends[c++]) {
      const to = ends[c];
      if (to === from) continue; // an empty cluster keeps its place
      const next = ps.range(from, to) / (pc[to] - pc[from]);
      if (next !== centroids[c]) moved = true;
      centroids[c] = next;
    }
    centroids.sort();
    if (!moved) break;
  }
  findEnds();
  let sse = 0;
  for (let c = 0, i = 0; c < k; c++) {
    const x = centroids[c];
    for (; i < ends[c]; i++) sse += Math.max(0, g.sumSq[i] - 2 * x * g.sum[i] + g.count[i] * x * x);
  }
  return { centroids, sse };
}
