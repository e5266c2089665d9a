/**
 * The optimal clustering of value-ordered groups (each kept whole) by dynamic programming: row m
 * holds the best m-cluster cost of every prefix of the groups and its last split. The rows run in
 * a WebAssembly kernel (wasm/kmeansKernel) where there is one; the JavaScript here is its
 * reference and fallback, with the same arithmetic, so both give the same splits to the bit.
 */
import type { MomentGroups } from './momentGroups';
import { kmeansKernel, type DpPrefixes } from './wasm/kmeansKernel';

/** Prefix sums kept as unevaluated pairs hi + lo (Knuth's two-sum), for exact range differences. */
export class DoubleDoublePrefix {
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

interface DpRow extends DpPrefixes {
  /** Best cost of m - 1 clusters of the first i groups, and its last split. */
  readonly prev: Float64Array;
  readonly prevArg: Int32Array;
  /** Filled: best cost of m clusters of the first j groups, and its last split. */
  readonly cur: Float64Array;
  readonly arg: Int32Array;
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
 * For each DP row up to the largest k: the last cell it is read at (row m at n - (k - m) at most
 * for the smallest k >= m: the k - m clusters after it need a group each), and 1 where Knuth's
 * bounds are cheaper than divide and conquer (about 1 + j / (m (m - 1)) evaluations a cell
 * against log2 of the row's width). Two int32 a row.
 */
export function rowPlan(n: number, ks: readonly number[]): Int32Array {
  const kMax = Math.max(...ks);
  const plan = new Int32Array(2 * kMax);
  for (let m = 1; m <= kMax; m++) {
    const k = Math.min(...ks.filter((x) => x >= m));
    const last = n - (k - m);
    plan[2 * m - 2] = last;
    plan[2 * m - 1] = m > 1 && 1 + last / (m * (m - 1)) < Math.log2(last - m + 2) ? 1 : 0;
  }
  return plan;
}

/**
 * The DP's split table in JavaScript: rows 1..kMax of `plan` (row m - 1 at (m - 1)·(n + 1)), the
 * cells of a row beyond its last left Infinity in cost and 0 in split (a valid lower bound for
 * the next row).
 */
export function splitTableJs(p: DpPrefixes, plan: Int32Array): Int32Array {
  const n = p.pc.length - 1;
  const kMax = plan.length / 2;
  // Two cost rows, swapped; every row's splits in one allocation (the GC had been a third of it).
  let prev = new Float64Array(n + 1).fill(Infinity);
  prev[0] = 0;
  let cur = new Float64Array(n + 1);
  const splits = new Int32Array(kMax * (n + 1));
  let prevArg = new Int32Array(n + 1);
  // Depth-first over halving ranges: at most ~2·log2(n) pending ranges of four numbers each.
  const stack = new Int32Array(4 * (2 * Math.ceil(Math.log2(n + 2)) + 4));
  for (let m = 1; m <= kMax; m++) {
    cur.fill(Infinity);
    const arg = splits.subarray((m - 1) * (n + 1), m * (n + 1));
    const last = plan[2 * m - 2];
    const row = { prev, prevArg, cur, arg, pc: p.pc, sHi: p.sHi, sLo: p.sLo, qHi: p.qHi, qLo: p.qLo, stack };
    if (plan[2 * m - 1] === 1) solveRowKnuth(m, last, row);
    else solveRow(m, last, row);
    [prev, cur] = [cur, prev];
    prevArg = arg;
  }
  return splits;
}

/** The DP's inputs for the groups: prefix counts, and prefix sums of values and squares in double-double. */
export function dpPrefixes(g: MomentGroups): DpPrefixes {
  const n = g.count.length;
  // Double-double: with heavy tails, the squares of the outliers that come first would
  // otherwise swamp the small differences that decide the clusters in the dense middle.
  const ps = new DoubleDoublePrefix(g.sum);
  const pq = new DoubleDoublePrefix(g.sumSq);
  const pc = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) pc[i + 1] = pc[i] + g.count[i];
  return { pc, sHi: ps.hi, sLo: ps.lo, qHi: pq.hi, qLo: pq.lo };
}

/** The split table of the DP for `ks` (see splitTableJs): the kernel's where there is one, else JavaScript's. */
export function splitTable(p: DpPrefixes, ks: readonly number[]): Int32Array {
  const plan = rowPlan(p.pc.length - 1, ks);
  return kmeansKernel()?.splits(p, plan) ?? splitTableJs(p, plan);
}

/**
 * Optimal k-means of groups (each group kept whole) by DP, for every k in `ks` (each below the
 * group count) from one DP: row m holds the best m-cluster costs of every prefix, so the rows up
 * to the largest k answer the smaller ones too. Returns the centroids for each k.
 */
export function optimalCentroids(g: MomentGroups, ks: readonly number[]): Float64Array[] {
  const n = g.count.length;
  const p = dpPrefixes(g);
  const splits = splitTable(p, ks);
  return ks.map((k) => {
    const centroids = new Float64Array(k);
    let j = n;
    for (let m = k; m >= 1; m--) {
      const i = splits[(m - 1) * (n + 1) + j];
      const sum = p.sHi[j] - p.sHi[i] + (p.sLo[j] - p.sLo[i]);
      centroids[m - 1] = sum / (p.pc[j] - p.pc[i]);
      j = i;
    }
    return centroids;
  });
}
