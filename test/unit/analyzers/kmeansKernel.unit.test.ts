/**
 * The WebAssembly k-means DP (wasm/kmeansKernel) against the JavaScript it stands in for
 * (kmeansDp.ts, which kmeans1d.unit.test.ts checks against a brute-force optimum): the same split
 * table to the bit, two candidates at a time and one at a time, and the same centroids and
 * errors from kmeans1dEach, on data where ties, rounding and the double-double sums decide.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { dpPrefixes, rowPlan, splitTableJs } from '../../../src/analyzers/kmeansDp';
import { coarsen, kmeans1dEach, COARSE_GROUPS } from '../../../src/analyzers/kmeans1d';
import { groupsFromSorted, type MomentGroups } from '../../../src/analyzers/momentGroups';
import { KMeansKernel, kmeansKernel } from '../../../src/analyzers/wasm/kmeansKernel';
import { useKernels } from '../../../src/analyzers/wasm/kernelSwitch';
import { seededRandom } from '../../../src/core/random';

/** Groups made directly (any counts, any moments), value-ordered by mean. */
function groupsOf(means: number[], counts: (i: number) => number, spread: (mean: number) => number): MomentGroups {
  const n = means.length;
  const g = { count: new Float64Array(n), sum: new Float64Array(n), sumSq: new Float64Array(n) };
  means.sort((a, b) => a - b).forEach((mean, i) => {
    const c = counts(i);
    const d = spread(mean);
    g.count[i] = c;
    g.sum[i] = c * mean;
    g.sumSq[i] = c * (mean * mean + d * d);
  });
  return g;
}

function bell(n: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => random() + random() + random() - 1.5);
}

const cases: Record<string, () => MomentGroups> = {
  'one group': () => groupsOf([0.3], () => 5, () => 0.1),
  'two groups': () => groupsOf([0.3, -1], () => 1, () => 0),
  // every group the same mean: every split costs (nearly) the same, so the tie rule decides
  'all groups identical means': () => groupsOf(Array(300).fill(0.1), (i) => 1 + (i % 7), () => 0),
  'identical means with spread': () => groupsOf(Array(257).fill(-2.5), (i) => 3 + (i % 5), () => 0.01),
  'heavy tail and outliers': () => groupsOf([...bell(900, 1).map((x) => x ** 5 * 40), 1e6, -3e5, 2e7], (i) => 1 + (i % 13), () => 0),
  'denormal-scale values': () => groupsOf(bell(400, 2).map((x) => x * 1e-160), (i) => 1 + (i % 3), (m) => Math.abs(m) * 0.5),
  'huge values': () => groupsOf(bell(400, 3).map((x) => x * 1e150), () => 2, () => 0),
  'FP16-like few distinct values': () => groupsFromSorted(Float32Array.from(bell(5000, 4), (x) => Math.round(x * 24) / 24).sort()),
  'two far clusters': () => groupsOf(bell(600, 5).map((x, i) => x + (i % 3 === 0 ? 1000 : 0)), (i) => 1 + (i % 4), () => 0.001),
};

/** Every k the DP is asked for: 4, 16, 256, each below the group count, and groups - 1. */
function ksFor(n: number): number[] {
  return [...new Set([4, 16, 256, n - 1].filter((k) => k >= 1 && k < n))].sort((a, b) => a - b);
}

function assertSameTable(g: MomentGroups, ks: number[], label: string): void {
  const p = dpPrefixes(g);
  const plan = rowPlan(g.count.length, ks);
  const want = splitTableJs(p, plan);
  const kernel = new KMeansKernel();
  for (const simd of [true, false]) {
    const got = kernel.splits(p, plan, simd);
    assert.equal(got.length, want.length, label);
    const at = got.findIndex((x, i) => x !== want[i]);
    const n = g.count.length + 1;
    assert.equal(at, -1, `${label} (simd ${simd}): row ${Math.floor(at / n) + 1} cell ${at % n}: ${got[at]} vs ${want[at]}`);
  }
}

for (const [name, make] of Object.entries(cases)) {
  test(`kernel split table = JavaScript's: ${name}`, () => {
    const g = make();
    const n = g.count.length;
    if (n === 1) assertSameTable(g, [1], name);
    for (const k of ksFor(n)) assertSameTable(g, [k], `${name}, k=${k}`);
    const ks = ksFor(n);
    if (ks.length > 1) assertSameTable(g, ks, `${name}, k=${ks.join(',')}`);
  });
}

test('kernel split table = JavaScript\'s on random data of 2..1024 groups, k = 4, 16 together and 256 alone', () => {
  const random = seededRandom(42);
  for (const n of [2, 3, 5, 16, 17, 64, 255, 256, 257, 511, 512, 700, 1023, 1024]) {
    const g = groupsOf(bell(n, n), () => 1 + Math.floor(random() * 50), () => random() * 0.01);
    const small = [4, 16].filter((k) => k < n);
    if (small.length > 0) assertSameTable(g, small, `${n} groups, k=${small.join(',')}`);
    if (n > 256 && n <= 512) assertSameTable(g, [256], `${n} groups, k=256`);
    assertSameTable(g, [n - 1], `${n} groups, k=${n - 1}`);
  }
});

test('a large problem and then small ones in one kernel: nothing left over from the last call', () => {
  const kernel = new KMeansKernel();
  const big = groupsOf(bell(512, 6), (i) => 1 + (i % 9), () => 0.001);
  const small = groupsOf(bell(20, 7), () => 3, () => 0);
  for (const g of [big, small, big, small]) {
    const p = dpPrefixes(g);
    const plan = rowPlan(g.count.length, [4, 16]);
    assert.deepEqual([...kernel.splits(p, plan)], [...splitTableJs(p, plan)]);
  }
});

test('kmeans1dEach with and without the kernel: the same centroids and errors to the bit', () => {
  assert.ok(kmeansKernel(), 'WebAssembly SIMD kernel available');
  const samples: Record<string, MomentGroups> = {
    ...Object.fromEntries(Object.entries(cases).map(([name, make]) => [name, make()])),
    'many groups (coarsened to 1,024, and 512 for k = 256)': groupsFromSorted(Float32Array.from(bell(30_000, 8), (x) => x * 0.05).sort()),
  };
  for (const [name, g] of Object.entries(samples)) {
    const coarse = coarsen(g, COARSE_GROUPS);
    const withKernel = kmeans1dEach(g, [4, 16, 256], { coarse });
    useKernels(false);
    let plain;
    try {
      plain = kmeans1dEach(g, [4, 16, 256], { coarse });
    } finally {
      useKernels(true);
    }
    plain.forEach((want, i) => {
      assert.deepEqual([...withKernel[i].centroids], [...want.centroids], `${name}: centroids of k=${[4, 16, 256][i]}`);
      assert.ok(Object.is(withKernel[i].sse, want.sse), `${name}: error of k=${[4, 16, 256][i]}: ${withKernel[i].sse} vs ${want.sse}`);
    });
  }
});
