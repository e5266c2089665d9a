import type { MomentGroups } from './momentGroups';
import { DoubleDoublePrefix, optimalCentroids } from './kmeansDp';

export { FloatBitBins, MomentHistogram, groupsFromSorted, type MomentGroups } from './momentGroups';

/**
 * One-dimensional k-means (weight clustering, as in Deep Compression), exploiting 1-D: the
 * weights come as value-ordered groups (momentGroups.ts), each with its count, sum and sum of
 * squares, so a group's clustering error is exact for any centroid and the cost of a run of
 * groups is O(1) from prefix sums. The optimal clustering of at most 1,024 groups (coarsened by
 * the equal-error partition when there are more) by dynamic programming (kmeansDp.ts) seeds
 * Lloyd's iterations over all the groups. The only approximation is that a group is assigned as a
 * whole, by its mean: every result is an actual clustering's error, never below the optimum.
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
  const out = { count: new Float64Array(runs), sum: new Float64Array(runs), sumSq: new Float64Array(runs), single: new Uint8Array(runs) };
  for (let r = 0, i = 0; r < runs; r++) {
    const first = i;
    for (; i < ends[r]; i++) {
      out.count[r] += count[i];
      out.sum[r] += sum[i];
      out.sumSq[r] += sumSq[i];
    }
    out.single[r] = i === first + 1 && g.single?.[first] ? 1 : 0; // groups are distinct values: only a run of one stays single
  }
  return out;
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
  const single = g.single;
  for (let c = 0, i = 0; c < k; c++) {
    const x = centroids[c];
    for (; i < ends[c]; i++) {
      if (single?.[i]) sse += g.count[i] * (means[i] - x) * (means[i] - x); // exactly 0 at its own value
      else sse += Math.max(0, g.sumSq[i] - 2 * x * g.sum[i] + g.count[i] * x * x);
    }
  }
  return { centroids, sse };
}
