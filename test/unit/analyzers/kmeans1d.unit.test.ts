/**
 * The optimal 1-D clustering that seeds Lloyd's iterations, against a brute-force dynamic
 * programme over every split (O(k·n²), plain sums): equal costs on smooth, heavy-tailed, tied and
 * well-separated values, for small and large k. The seed is optimal, so Lloyd's first assignment
 * keeps its cost: maxIterations 0 reads the DP's own result.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { groupsFromSorted, kmeans1d, type MomentGroups } from '../../../src/analyzers/kmeans1d';

function bruteForceSse(g: MomentGroups, k: number): number {
  const n = g.count.length;
  const cost = (i: number, j: number): number => {
    let c = 0;
    let s = 0;
    let q = 0;
    for (let x = i; x < j; x++) {
      c += g.count[x];
      s += g.sum[x];
      q += g.sumSq[x];
    }
    return Math.max(0, q - (s * s) / c);
  };
  let prev = Array.from({ length: n + 1 }, (_, j) => (j === 0 ? 0 : Infinity));
  for (let m = 1; m <= k; m++) {
    const cur = new Array<number>(n + 1).fill(Infinity);
    for (let j = 1; j <= n; j++) for (let i = 0; i < j; i++) if (prev[i] < Infinity) cur[j] = Math.min(cur[j], prev[i] + cost(i, j));
    prev = cur;
  }
  return prev[n];
}

function values(kind: string, n: number, seed: number): Float32Array {
  let s = seed;
  const uniform = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
  return Float32Array.from({ length: n }, () => {
    const bell = uniform() + uniform() + uniform() - 1.5;
    if (kind === 'heavy tail') return bell ** 5 * 40;
    if (kind === 'ties') return Math.round(bell * 6) / 6;
    if (kind === 'two far clusters') return bell + (uniform() < 0.3 ? 1000 : 0);
    return bell;
  });
}

for (const kind of ['bell', 'heavy tail', 'ties', 'two far clusters']) {
  test(`optimal clustering of ${kind} values equals the brute-force optimum`, () => {
    for (const [n, seed] of [[9, 1], [40, 2], [150, 3]]) {
      const g = groupsFromSorted(values(kind, n, seed).sort());
      const groups = g.count.length;
      for (const k of [1, 2, 3, 4, 7, 16, Math.floor(groups / 2), groups - 1]) {
        if (k < 1 || k >= groups) continue;
        const want = bruteForceSse(g, k);
        const got = kmeans1d(g, k, { coarse: g, maxIterations: 0 }).sse;
        const scale = Math.max(1e-300, bruteForceSse(g, 1));
        assert.ok(Math.abs(got - want) <= 1e-12 * scale + 1e-9 * want, `${kind}, ${groups} groups, k=${k}: DP ${got} vs brute force ${want}`);
      }
    }
  });
}
