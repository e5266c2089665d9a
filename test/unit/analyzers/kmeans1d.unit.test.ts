/**
 * The optimal 1-D clustering that seeds Lloyd's iterations, against a brute-force dynamic
 * programme over every split (O(k·n²), plain sums): equal costs on smooth, heavy-tailed, tied and
 * well-separated values, for small and large k. The seed is optimal, so Lloyd's first assignment
 * keeps its cost: maxIterations 0 reads the DP's own result.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { coarsen, kmeans1d, kmeans1dEach, lloydFrom } from '../../../src/analyzers/kmeans1d';
import { FloatBitBins, groupsFromSorted, type MomentGroups } from '../../../src/analyzers/momentGroups';

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

/** Squared error of giving each group the nearest centroid, one group at a time (the reference for Lloyd's runs). */
function nearestSse(g: MomentGroups, centroids: Float64Array): number {
  let sse = 0;
  for (let i = 0; i < g.count.length; i++) {
    const x = g.sum[i] / g.count[i];
    let best = 0;
    for (let c = 1; c < centroids.length; c++) if (Math.abs(centroids[c] - x) <= Math.abs(centroids[best] - x)) best = c;
    const c = centroids[best];
    // a group of one value: its error directly (the moments' form cancels for values far from 0)
    sse += g.single?.[i] ? g.count[i] * (x - c) * (x - c) : Math.max(0, g.sumSq[i] - 2 * c * g.sum[i] + g.count[i] * c * c);
  }
  return sse;
}

test('one DP for several k gives what one DP per k gives, and each k\'s error is its centroids\' nearest-centroid error', () => {
  for (const kind of ['bell', 'heavy tail', 'ties', 'two far clusters']) {
    const g = groupsFromSorted(values(kind, 3000, 11).sort());
    const together = kmeans1dEach(g, [4, 16, 256]);
    [4, 16, 256].forEach((k, i) => {
      const alone = kmeans1d(g, k);
      assert.deepEqual([...together[i].centroids], [...alone.centroids], `${kind}, k=${k}`);
      assert.equal(together[i].sse, alone.sse);
      const reference = nearestSse(g, together[i].centroids);
      assert.ok(Math.abs(together[i].sse - reference) <= 1e-9 * reference + 1e-300, `${kind}, k=${k}: ${together[i].sse} vs ${reference}`);
    });
  }
});

test('k-means never beats the optimum, and stays within 1% of it where the DP runs on fewer groups than there are (k = 256)', () => {
  for (const kind of ['bell', 'heavy tail', 'two far clusters']) {
    const g = groupsFromSorted(values(kind, 700, 12).sort());
    assert.ok(g.count.length > 512, 'more groups than the DP takes for k = 256');
    for (const k of [16, 256]) {
      const optimum = bruteForceSse(g, k);
      const got = kmeans1d(g, k).sse;
      assert.ok(got >= optimum * (1 - 1e-9), `${kind}, k=${k}: ${got} below the optimum ${optimum}`);
      assert.ok(got <= optimum * 1.01, `${kind}, k=${k}: ${got} vs the optimum ${optimum}`);
    }
  }
});

test('Lloyd from any start ends no worse than its start, whatever the order of the start', () => {
  const g = groupsFromSorted(values('heavy tail', 2000, 13).sort());
  const start = Float64Array.of(3, -2, 0.5, 40, -0.1, 0);
  const result = lloydFrom(g, start);
  assert.ok(result.sse <= nearestSse(g, Float64Array.from(start).sort()));
  assert.deepEqual([...result.centroids], [...result.centroids].sort((a, b) => a - b));
});

test('k-means edge cases: no groups, one group, fewer groups than k, all values equal', () => {
  assert.deepEqual(kmeans1dEach(groupsFromSorted(new Float32Array(0)), [4, 16]).map((r) => r.sse), [0, 0]);
  const one = kmeans1d(groupsFromSorted(Float32Array.of(2.5)), 4);
  assert.deepEqual([one.sse, ...one.centroids], [0, 2.5]);
  const few = kmeans1d(groupsFromSorted(Float32Array.of(-1, 1, 1, 3)), 16);
  assert.deepEqual([few.sse, ...few.centroids], [0, -1, 1, 3]);
  assert.equal(kmeans1d(groupsFromSorted(new Float32Array(100).fill(0.25)), 4).sse, 0);
});

test('coarsening keeps value order and every moment, and makes at most the groups asked for', () => {
  for (const kind of ['bell', 'heavy tail', 'ties', 'two far clusters']) {
    const g = groupsFromSorted(values(kind, 5000, 14).sort());
    for (const target of [1, 2, 7, 256, 1024]) {
      const c = coarsen(g, target);
      assert.ok(c.count.length <= target && c.count.length >= Math.min(target, g.count.length) / 2, `${kind}: ${c.count.length} groups for ${target}`);
      const total = (a: Float64Array): number => a.reduce((s, x) => s + x, 0);
      assert.equal(total(c.count), total(g.count));
      assert.ok(Math.abs(total(c.sum) - total(g.sum)) <= 1e-9 * total(g.sumSq) ** 0.5 * total(g.count));
      for (let i = 1; i < c.count.length; i++) assert.ok(c.sum[i - 1] / c.count[i - 1] < c.sum[i] / c.count[i], `${kind}: value order`);
    }
    // far outliers stay groups of their own
    if (kind === 'two far clusters') assert.ok(coarsen(g, 2).sum[1] / coarsen(g, 2).count[1] > 900);
  }
});

test('float bit bins: value order, exact moments, one bin per FLOAT16 value, NaN and Inf skipped, -0 before +0', () => {
  const bins = new FloatBitBins();
  const data = Float32Array.of(-3, 0.5, -0, 0, 0.5, NaN, Infinity, -Infinity, 1e-30, -2.75, 65504, 0.5 + 2 ** -11);
  bins.add(data.subarray(0, 6));
  bins.add(data.subarray(6));
  const g = bins.groups();
  const means = [...g.sum].map((s, i) => s / g.count[i]);
  // -0 and +0 are bins of their own, both with sum +0
  assert.deepEqual(means, [-3, -2.75, 0, 0, Math.fround(1e-30), 0.5, 0.5 + 2 ** -11, 65504]);
  assert.deepEqual([...g.count], [1, 1, 1, 1, 1, 2, 1, 1]);
  assert.equal(g.sumSq[5], 0.5);
});

test('weights already in k values cluster exactly (error 0, "exact"), by sorted groups and by float bit bins; a bin of two values does not', () => {
  // 16 cluster values a third of a unit apart, each repeated thousands of times: sumSq − sum²/n
  // leaves rounding there, the single-value groups do not.
  const levels = Float32Array.from({ length: 16 }, (_, i) => (i - 7.5) / 3 + 0.0123);
  const weights = Float32Array.from({ length: 100_000 }, (_, i) => levels[(i * 7919) % 16]);
  const sorted = groupsFromSorted(Float32Array.from(weights).sort());
  const bins = new FloatBitBins();
  bins.add(weights);
  for (const [label, g] of [['sorted', sorted], ['bit bins', bins.groups()]] as const) {
    const [c4, c16, c256] = kmeans1dEach(g, [4, 16, 256], { coarse: coarsen(g, 1024) }).map((r) => r.sse);
    assert.equal(c16, 0, `${label}: 16 clusters`);
    assert.equal(c256, 0, `${label}: 256 clusters`);
    assert.ok(c4 > 0, `${label}: 4 clusters cannot be exact`);
  }
  // Two neighbouring float32 values share a bit bin: that bin is not one value.
  const pair = new FloatBitBins();
  pair.add(Float32Array.of(1, 1 + 2 ** -23, 1, 1 + 2 ** -23));
  const g = pair.groups();
  assert.deepEqual([...g.count, ...g.single!], [4, 0]);
  assert.ok(kmeans1d(g, 4).sse > 0);
});

test('a far outlier stays a group of its own when the sorted values are grouped (16 and 256 clusters as good as on every value)', () => {
  const bell = values('bell', 60_000, 21);
  const sorted = Float32Array.from([...bell, 200 * Math.max(...bell)]).sort();
  const all = groupsFromSorted(sorted, sorted.length); // one group per value
  const grouped = groupsFromSorted(sorted); // at most 16,384 by count
  assert.ok(grouped.count.length < all.count.length / 2);
  for (const k of [16, 256]) {
    const exact = kmeans1d(all, k).sse;
    const fromGroups = kmeans1d(grouped, k).sse;
    assert.ok(fromGroups <= exact * 1.03, `k=${k}: ${fromGroups} from the groups, ${exact} from every value`); // 0.13 dB
  }
});
