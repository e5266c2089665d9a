/**
 * Tensor statistics and redundancy estimates against numpy / scikit-learn (computed once by
 * test/fixtures/make_stats_fixture.py and stored in stats_expected.json).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { readDenseFloat32 } from '../../../src/core/onnx/tensorData';
import { computeTensorStats, type TensorStats } from '../../../src/analyzers/tensorStats';
import { energyCurve, rankForEnergy, singularEnergies } from '../../../src/analyzers/lowRank';
import { huffmanBits, shannonEntropyBits } from '../../../src/analyzers/entropy';
import { roundHalfEven } from '../../../src/analyzers/quantize';
import { fixtureModels, readJson } from '../../helpers/paths';
import { KBLOCK } from '../../../src/analyzers/wasm/gramKernel';
import { useKernels } from '../../../src/analyzers/wasm/kernelSwitch';

/** The Gram kernel sums float32 products in blocks of KBLOCK (float64 between blocks): its relative rounding. */
const GRAM_ROUNDING = (KBLOCK + 2) * 2 ** -24;

interface Quant {
  sqnrDb: number | 'Infinity';
  maxAbsError: number;
}

/** What make_stats_fixture.py stored: the statistics' own fields, plus the references for the rest. */
interface Expected extends Pick<TensorStats, 'elements' | 'min' | 'max' | 'mean' | 'std' | 'zeroFraction' | 'nearZeroFraction' | 'nanFraction' | 'infFraction' | 'histogram'> {
  axis: number | null;
  redundancy: {
    int8PerTensor: Quant;
    int4PerTensor: Quant;
    int8PerChannel?: Quant;
    int4PerChannel?: Quant;
    entropyBitsInt8: number;
    huffmanBytesInt8: number;
    sklearnClusterSqnrDb: Record<string, number | 'Infinity'>;
  };
  lowRank?: { rows: number; cols: number; energies: number[]; rank90: number; rank95: number; rank99: number };
}

const expected = readJson<Record<string, Expected>>(path.join(fixtureModels, 'stats_expected.json'));
const model = openModel(path.join(fixtureModels, 'stats.onnx'));
const num = (v: number | 'Infinity'): number => (v === 'Infinity' ? Infinity : v);

function close(actual: number, wanted: number, rel: number, what: string): void {
  if (wanted === Infinity || actual === Infinity) return assert.equal(actual, wanted, what);
  const tol = rel * Math.max(1, Math.abs(wanted));
  assert.ok(Math.abs(actual - wanted) <= tol, `${what}: ${actual} vs ${wanted}`);
}

for (const [name, want] of Object.entries(expected)) {
  test(`${name}: statistics match numpy`, async () => {
    const t = model.index.tensors.find((x) => x.name === name)!;
    // Small chunks so the streaming passes are exercised across chunk boundaries.
    const s = await computeTensorStats(t, { channelAxis: want.axis ?? undefined, chunkElements: 1000 });
    assert.equal(s.elements, want.elements);
    assert.equal(s.min, want.min);
    assert.equal(s.max, want.max);
    close(s.mean, want.mean, 1e-9, 'mean');
    close(s.std, want.std, 1e-9, 'std');
    assert.equal(s.zeroFraction, want.zeroFraction);
    assert.equal(s.nearZeroFraction, want.nearZeroFraction);
    assert.equal(s.nanFraction, want.nanFraction);
    assert.equal(s.infFraction, want.infFraction);
    assert.equal(s.histogram.min, want.histogram.min);
    assert.equal(s.histogram.max, want.histogram.max);
    assert.deepEqual(s.histogram.counts, want.histogram.counts, 'histogram counts identical');
    const r = s.redundancy!;
    const q = (got: { sqnrDb: number; maxAbsError: number } | null, exp: Quant | undefined, what: string): void => {
      if (!exp) return assert.equal(got, null, what);
      close(got!.sqnrDb, num(exp.sqnrDb), 1e-9, `${what} SQNR`);
      close(got!.maxAbsError, exp.maxAbsError, 1e-12, `${what} max error`);
    };
    q(r.int8PerTensor, want.redundancy.int8PerTensor, 'INT8 per-tensor');
    q(r.int4PerTensor, want.redundancy.int4PerTensor, 'INT4 per-tensor');
    q(r.int8PerChannel, want.redundancy.int8PerChannel, 'INT8 per-channel');
    q(r.int4PerChannel, want.redundancy.int4PerChannel, 'INT4 per-channel');
    close(r.entropyBitsInt8, want.redundancy.entropyBitsInt8, 1e-9, 'entropy');
    assert.equal(r.huffmanBytesInt8, want.redundancy.huffmanBytesInt8, 'Huffman size');
    for (const k of ['4', '16', '256'] as const) {
      const ours = r.clusterSqnrDb[k];
      const theirs = num(want.redundancy.sklearnClusterSqnrDb[k]);
      // Never worse than scikit-learn's KMeans (10 k-means++ restarts) on the same data.
      assert.ok(ours >= theirs - 0.05 || ours === Infinity, `k=${k}: ours ${ours.toFixed(3)} dB vs scikit-learn ${theirs.toFixed(3)} dB`);
    }
  });

  if (want.lowRank) {
    const lr = want.lowRank;
    test(`${name}: singular-value energies match numpy's SVD`, async () => {
      const t = model.index.tensors.find((x) => x.name === name)!;
      const e = await singularEnergies(await readDenseFloat32(t), lr.rows, lr.cols);
      assert.equal(e.energies.length, lr.energies.length);
      e.energies.forEach((v, i) => close(v, lr.energies[i], GRAM_ROUNDING * lr.energies[0], `energy ${i}`));
      assert.equal(rankForEnergy(e, 0.9), lr.rank90);
      assert.equal(rankForEnergy(e, 0.95), lr.rank95);
      assert.equal(rankForEnergy(e, 0.99), lr.rank99);
      // The curve: rising ranks from 1 to the full rank, each point numpy's cumulative energy.
      const total = lr.energies.reduce((a, b) => a + b, 0);
      for (const points of [4, 96]) {
        const curve = energyCurve(e, points);
        assert.equal(curve.ranks[0], 1);
        assert.equal(curve.ranks.at(-1), lr.energies.length);
        assert.ok(curve.ranks.length <= points && curve.ranks.every((r, i) => i === 0 || r > curve.ranks[i - 1]));
        curve.ranks.forEach((r, i) => close(curve.kept[i], lr.energies.slice(0, r).reduce((a, b) => a + b, 0) / total, GRAM_ROUNDING, `kept at rank ${r}`));
      }
    });
  }
}

test('round half to even, as QuantizeLinear', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, -0, -2, -2, 2, 3]);
});

test('entropy and Huffman size on crafted counts', () => {
  assert.equal(shannonEntropyBits([1, 1, 1, 1]), 2);
  assert.equal(shannonEntropyBits([5, 0, 0]), 0);
  // Counts 1,1,2,4: code lengths 3,3,2,1 -> 3+3+4+4 = 14 bits.
  assert.equal(huffmanBits([1, 1, 2, 4]), 14);
  assert.equal(huffmanBits([0, 7, 0]), 7);
});

test('the log-scale view counts |w| per power of two, by sign', async () => {
  const { parseModel } = await import('../../../src/core/onnx/model');
  const { encodeModel, floatTensor, graph, model: makeModel } = await import('../../helpers/modelBuilder');
  const m = parseModel(encodeModel(makeModel(graph([], [floatTensor('w', [6], [1, 1.5, -0.25, 3, 0, -0.3])]))));
  const s = await computeTensorStats(m.index.tensors[0], { logHistogram: true, redundancy: false });
  const at = (list: number[], e: number): number => list[s.logHistogram!.exponents.indexOf(e)];
  assert.equal(at(s.logHistogram!.positive, 0), 2); // 1 and 1.5
  assert.equal(at(s.logHistogram!.positive, 1), 1); // 3
  assert.equal(at(s.logHistogram!.negative, -2), 2); // -0.25 and -0.3
  assert.equal(s.logHistogram!.zeros, 1);
  assert.equal((await computeTensorStats(m.index.tensors[0], { redundancy: false })).logHistogram, null);
});

test('randomized singular values: lower bounds of the exact ones, tight on a decaying spectrum', async () => {
  const { randomizedEnergies } = await import('../../../src/analyzers/lowRank');
  const rows = 300;
  const cols = 200;
  let seed = 11;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
  // W = Σ 0.7^i · u_i v_iᵀ over 40 random directions, plus a little noise.
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < 40; i++) {
    const u = Array.from({ length: rows }, rand);
    const v = Array.from({ length: cols }, rand);
    const s = 0.7 ** i;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c] += s * u[r] * v[c];
  }
  for (let i = 0; i < w.length; i++) w[i] += 1e-4 * rand();
  // The float64 Gram (kernels off): the true values to float64 rounding, which the estimates stay below.
  useKernels(false);
  const exact = await singularEnergies(w, rows, cols).finally(() => useKernels(true));
  const approx = await randomizedEnergies(w, rows, cols, 30);
  assert.equal(approx.energies.length, 30);
  approx.energies.forEach((v, i) => {
    assert.ok(v <= exact.energies[i] * (1 + 1e-9), `estimate ${i} is a lower bound`);
    if (i < 10) close(v, exact.energies[i], 1e-6 * exact.energies[0], `energy ${i}`);
  });
  close(approx.total, exact.energies.reduce((a, b) => a + b, 0), 1e-9, 'total energy');
  assert.equal(rankForEnergy(approx, 0.9), rankForEnergy(exact, 0.9));
  assert.equal(rankForEnergy(approx, 0.99), rankForEnergy(exact, 0.99));
  assert.equal(rankForEnergy({ ...approx, total: approx.total * 100 }, 0.99), null, 'not reached within the top values');
});

test('layers over maxLowRankDim get randomized low-rank figures, the same ranks when the spectrum is found', async () => {
  const { attributeLayers } = await import('../../../src/analyzers/layers');
  const { analyzeLayer } = await import('../../../src/analyzers/layerAnalysis');
  const mlp = openModel(path.join(fixtureModels, 'mlp_everything.onnx'));
  const fc1 = attributeLayers(mlp.index).layers.find((l) => l.node.label === 'fc1')!;
  const exact = (await analyzeLayer(fc1)).redundancy!;
  const randomized = (await analyzeLayer(fc1, { maxLowRankDim: 4 })).redundancy!;
  assert.equal(exact.lowRankMethod, 'exact');
  assert.equal(randomized.lowRankMethod, 'randomized');
  assert.equal(randomized.rank90, exact.rank90);
  assert.equal(randomized.rank99, exact.rank99);
  close(randomized.topEnergyFraction!, 1, 1e-9, 'an 8 x 16 matrix is found whole');
});

test('channel ranges: finite min and max per channel along the axis, across chunk boundaries', async () => {
  const { parseModel } = await import('../../../src/core/onnx/model');
  const { encodeModel, floatTensor, graph, model: makeModel } = await import('../../helpers/modelBuilder');
  const dims = [3, 4, 5];
  const values = Array.from({ length: 60 }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 7)));
  values[13] = NaN;
  values[41] = Infinity;
  const m = parseModel(encodeModel(makeModel(graph([], [floatTensor('w', dims, values)]))));
  const stored = Float32Array.from(values);
  for (const axis of [0, 1, 2]) {
    const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
    const lo = new Array(dims[axis]).fill(Infinity);
    const hi = new Array(dims[axis]).fill(-Infinity);
    stored.forEach((x, i) => {
      if (!Number.isFinite(x)) return;
      const c = Math.floor(i / inner) % dims[axis];
      lo[c] = Math.min(lo[c], x);
      hi[c] = Math.max(hi[c], x);
    });
    for (const chunkElements of [7, 1000]) {
      const s = await computeTensorStats(m.index.tensors[0], { channelAxis: axis, chunkElements, redundancy: false });
      assert.deepEqual(s.channelRanges, { axis, min: lo, max: hi }, `axis ${axis}, chunks of ${chunkElements}`);
    }
  }
  assert.equal((await computeTensorStats(m.index.tensors[0], { redundancy: false })).channelRanges, null, 'no axis, no ranges');
});
