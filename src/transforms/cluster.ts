/**
 * Weight clustering (parameter sharing, as in Deep Compression): the weights of a tensor are
 * replaced by the nearest of k shared values. Stored as a codebook [k] in the weight's own float
 * type (FLOAT, FLOAT16, BFLOAT16, DOUBLE) plus one index per
 * weight (UINT4 when k ≤ 16 and opset 21 is available, else UINT8), rebuilt at load time by
 * Cast(indices → INT32) and Gather(codebook, indices), which gives the weight's shape directly.
 * Centroids: 1-D k-means (Lloyd) from a seeded k-means++ start, or from the optimal clustering
 * of the value-ordered groups (init "optimal"). With keepZero, exact zeros (pruned weights)
 * keep a cluster of their own at exactly 0, and a weight with many of them stores only the
 * non-zeros' indices plus a bit mask when that is smaller (maskedStorage.ts).
 */
import { DataType } from '../core/onnx/dataTypes';
import { seededRandom } from '../core/random';

export { seededRandom };
import { MomentHistogram, kmeans1d, lloydFrom, type MomentGroups } from '../analyzers/kmeans1d';
import type { ClusterStep } from './recipe';
import { int4Tensor, uint8Tensor } from './tensorBuild';
import { floatName, floatSourceTensor, nonFiniteReason, roundTo } from './floatSource';
import { layerWeights, rewritableBlocker, type WeightTarget } from './targets';
import { requantizedNote, weightSource } from './weightSource';
import { intAttr, makeNode } from './weightEdit';
import { defaultOpset } from './opset';
import { planOpsetRaise } from './opsetUpgrade';
import { maskedCodes } from './maskedStorage';
import { MaskedWriter } from './maskedWrite';
import { change, errorOf, notSmaller, skip, type TensorChange, type TransformContext, type TransformOutcome } from './transform';

/** k-means++ seeding over value groups (each group weighted by its count). */
export function kmeansPlusPlus(g: MomentGroups, k: number, random: () => number): Float64Array {
  const n = g.count.length;
  const mean = Float64Array.from(g.sum, (s, i) => s / g.count[i]);
  const nearest = new Float64Array(n).fill(Infinity);
  const centroids = new Float64Array(k);
  const pick = (weights: (i: number) => number): number => {
    let total = 0;
    for (let i = 0; i < n; i++) total += weights(i);
    if (total <= 0) return mean[Math.floor(random() * n)];
    let r = random() * total;
    for (let i = 0; i < n; i++) {
      r -= weights(i);
      if (r < 0) return mean[i];
    }
    return mean[n - 1];
  };
  for (let c = 0; c < k; c++) {
    const chosen = c === 0 ? pick((i) => g.count[i]) : pick((i) => g.count[i] * nearest[i]);
    centroids[c] = chosen;
    for (let i = 0; i < n; i++) {
      const d = (mean[i] - chosen) ** 2;
      if (d < nearest[i]) nearest[i] = d;
    }
  }
  return centroids;
}

/**
 * Lloyd's iterations on the exact values: with the values sorted, each cluster is a contiguous
 * run found by binary search and its mean comes from prefix sums, so an iteration costs
 * O(k log n) instead of O(n k).
 */
export function lloydOnSorted(sorted: Float32Array, start: Float64Array, maxIterations = 300): Float64Array {
  const n = sorted.length;
  const prefix = new Float64Array(n + 1);
  for (let i = 0; i < n; i++) prefix[i + 1] = prefix[i] + sorted[i];
  const firstAbove = (x: number): number => {
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (sorted[mid] <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const c = Float64Array.from(start).sort();
  const k = c.length;
  for (let it = 0; it < maxIterations; it++) {
    let moved = false;
    let from = 0;
    for (let j = 0; j < k; j++) {
      const to = j === k - 1 ? n : firstAbove((c[j] + c[j + 1]) / 2);
      if (to > from) {
        const mean = (prefix[to] - prefix[from]) / (to - from);
        if (mean !== c[j]) moved = true;
        c[j] = mean;
      }
      from = Math.max(from, to);
    }
    c.sort();
    if (!moved) break;
  }
  return c;
}

/** Sorted centroids for the values (zeros excluded when keepZero, which adds an exact 0). */
export function clusterCentroids(values: Float32Array, step: Pick<ClusterStep, 'clusters' | 'keepZero' | 'init' | 'seed'>): Float64Array {
  const sorted = Float32Array.from(step.keepZero ? values.filter((v) => v !== 0) : values).sort();
  const k = step.keepZero ? step.clusters - 1 : step.clusters;
  let centroids: Float64Array;
  if (sorted.length === 0 || k === 0) centroids = new Float64Array(0);
  else {
    // Equal-width bins keep outliers apart (equal-count groups would average them away).
    const histogram = new MomentHistogram(sorted[0], sorted[sorted.length - 1], 65536);
    histogram.add(sorted);
    const groups = histogram.groups();
    const start =
      step.init === 'optimal' || groups.count.length <= k
        ? kmeans1d(groups, k).centroids
        : lloydFrom(groups, kmeansPlusPlus(groups, k, seededRandom(step.seed))).centroids;
    centroids = lloydOnSorted(sorted, start);
  }
  const all = step.keepZero ? [0, ...centroids] : [...centroids];
  return Float64Array.from(new Set(all.map(Math.fround))).sort();
}

/** Index of the nearest centroid for each value (centroids sorted). */
export function assignNearest(values: Float32Array, centroids: Float64Array): Int32Array {
  const k = centroids.length;
  const bounds = Float64Array.from({ length: Math.max(0, k - 1) }, (_, i) => (centroids[i] + centroids[i + 1]) / 2);
  const out = new Int32Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === 0 && centroids[0] <= 0 && centroids[k - 1] >= 0) {
      const zero = centroids.indexOf(0);
      if (zero >= 0) {
        out[i] = zero;
        continue;
      }
    }
    let lo = 0;
    let hi = k - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (v > bounds[mid]) lo = mid + 1;
      else hi = mid;
    }
    out[i] = lo;
  }
  return out;
}

export async function clusterLayers(ctx: TransformContext, step: ClusterStep): Promise<TransformOutcome> {
  const outcome: TransformOutcome = { changed: [], skipped: [], notes: [] };
  const requantized = new Set<string>();
  const opset = defaultOpset(ctx.state.proto.opsetImport);
  // 4-bit indices need opset 21 (Cast from UINT4); UINT8 indices work at any opset.
  const raise = step.clusters <= 16 ? planOpsetRaise(ctx.state.index, opset, 21, ctx.names) : undefined;
  const nibbles = raise !== undefined && !raise.blocker;
  const writer = new MaskedWriter(ctx);
  for (const layer of ctx.layers) {
    const weights = layerWeights(layer);
    if (weights.length === 0) {
      outcome.skipped.push(skip(layer, 'it has no weights of rank 2 or more'));
      continue;
    }
    const reasons: string[] = [];
    const changes: TensorChange[] = [];
    for (const w of weights) {
      await ctx.checkpoint();
      const why = rewritableBlocker(w) ?? (w.tensor.elements <= step.clusters ? `it has only ${w.tensor.elements} weights` : undefined);
      if (why) {
        reasons.push(`'${w.tensor.name}': ${why}`);
        continue;
      }
      const planned = await clusterWeight(ctx, w, step, nibbles, writer);
      if (typeof planned === 'string') {
        reasons.push(`'${w.tensor.name}': ${planned}`);
        continue;
      }
      if (planned.change.bytesAfter >= planned.change.bytesBefore) {
        reasons.push(`'${w.tensor.name}': ${notSmaller('a codebook and indices', planned.change.bytesBefore, planned.change.bytesAfter)}`);
        continue;
      }
      planned.commit();
      changes.push(planned.change);
      const from = planned.change.detail?.requantizedFrom;
      if (typeof from === 'string') requantized.add(from);
    }
    if (changes.length) outcome.changed.push(change(layer, changes));
    else outcome.skipped.push(skip(layer, reasons.join('; ')));
  }
  // Opset 21 (4-bit indices) covers what masked indices need.
  if (nibbles && outcome.changed.length) raise.apply(ctx.patch, ctx.names);
  else writer.finish();
  if (requantized.size) outcome.notes!.push(requantizedNote(requantized));
  return outcome;
}

async function clusterWeight(ctx: TransformContext, w: WeightTarget, step: ClusterStep, nibbles: boolean, writer: MaskedWriter): Promise<{ change: TensorChange; commit(): void } | string> {
  const t = w.tensor;
  const src = await weightSource(w);
  const { values, type: source } = src;
  const bad = nonFiniteReason(values);
  if (bad) return bad;
  // The codebook is stored in the weight's own type: centroids rounded to it (and merged if equal).
  const centroids = Float64Array.from(new Set(Array.from(clusterCentroids(values, step), (c) => roundTo(source, c)))).sort();
  const assignment = assignNearest(values, centroids);
  const name = src.name;
  const codebook = floatSourceTensor(ctx.names.fresh(`${name}_codebook`), source, [centroids.length], centroids);
  const indices = nibbles
    ? int4Tensor(ctx.names.fresh(`${name}_indices`), t.dims, assignment, true)
    : uint8Tensor(ctx.names.fresh(`${name}_indices`), t.dims, Uint8Array.from(assignment));
  const wide = ctx.names.fresh(`${name}_indices_int32`);
  const nodes = [
    makeNode('Cast', [indices.name ?? ''], [wide], ctx.names.fresh(`${name}_Cast`), [intAttr('to', DataType.Int32)]),
    makeNode('Gather', [codebook.name ?? '', wide], [name], ctx.names.fresh(`${name}_Gather`), [intAttr('axis', 0)]),
  ];
  const restored = Float32Array.from(assignment, (a) => centroids[a]);
  const codebookBytes = codebook.rawData?.length ?? 0;
  const zeroCode = centroids.indexOf(0);
  const masked = step.keepZero && zeroCode >= 0 ? maskedCodes(ctx.names, name, t.dims, restored, assignment, zeroCode, codebook.name ?? '', nibbles) : undefined;
  const useMasked = masked !== undefined && masked.bytes < (indices.rawData?.length ?? 0) && !writer.blocker(source);
  const commit = (): void => {
    if (!useMasked) return src.replace(ctx.patch, [codebook, indices], nodes);
    writer.noteMasked(source);
    src.replace(ctx.patch, [codebook, ...masked.stored], masked.nodes);
  };
  return { commit, change: {
    tensor: name,
    bytesBefore: src.bytesBefore,
    bytesAfter: codebookBytes + (useMasked ? masked.bytes : (indices.rawData?.length ?? 0)),
    ...errorOf(values, restored),
    detail: {
      clusters: centroids.length, indexType: nibbles ? 'uint4' : 'uint8', init: step.init, keepZero: step.keepZero, source: floatName(source),
      storage: useMasked ? 'masked' : 'dense', ...(src.requantizedFrom ? { requantizedFrom: src.requantizedFrom } : {}),
    },
  } };
}
