/**
 * Magnitude pruning: unstructured (the smallest |w| of each layer, or below one threshold across
 * the selected layers) and N:M (keep the N largest of every M consecutive weights along the
 * reduction axis, the pattern sparse tensor cores run). A pruned weight is stored masked (a bit
 * mask and its non-zeros, maskedStorage.ts) when that is smaller than dense; each change also
 * reports the sparse and deflated (measured) sizes, before and after.
 */
import { deflateRawSync } from 'node:zlib';
import { readDenseFloat32, readRawBytes } from '../core/onnx/tensorData';
import type { PruneStep } from './recipe';
import { floatBytes, zeroedRaw, type FloatSource } from './floatSource';
import { inPlaceBlocker, layerWeights, type WeightTarget } from './targets';
import { MaskedWriter } from './maskedWrite';
import { change, errorOf, skip, type TensorChange, type TransformContext, type TransformOutcome } from './transform';
import { pruneChannels } from './channelPrune';
import type { Layer } from '../analyzers/layers';
import { plural } from '../shared/format';

/** Zeroes the `count` smallest magnitudes (among equal ones, the earliest). */
export function zeroSmallest(values: Float32Array, count: number): void {
  if (count <= 0) return;
  const magnitudes = Float32Array.from(values, Math.abs).sort();
  const threshold = magnitudes[Math.min(count, values.length) - 1];
  let ties = 0;
  for (let i = 0; i < count && i < magnitudes.length; i++) if (magnitudes[i] === threshold) ties++;
  for (let i = 0; i < values.length; i++) {
    const m = Math.abs(values[i]);
    if (m < threshold) values[i] = 0;
    else if (m === threshold && ties > 0) {
      values[i] = 0;
      ties--;
    }
  }
}

/** Keeps the n largest magnitudes of every m consecutive weights along `axis`. */
export function pruneNofM(values: Float32Array, dims: readonly number[], axis: number, n: number, m: number): void {
  const size = dims[axis];
  const inner = dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  const outer = values.length / (size * inner);
  const group = new Array<number>(m);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      for (let d0 = 0; d0 < size; d0 += m) {
        for (let k = 0; k < m; k++) group[k] = (o * size + d0 + k) * inner + j;
        group.sort((a, b) => Math.abs(values[b]) - Math.abs(values[a]) || a - b);
        for (let k = n; k < m; k++) values[group[k]] = 0;
      }
    }
  }
}

function countZeros(v: Float32Array): number {
  let z = 0;
  for (let i = 0; i < v.length; i++) if (v[i] === 0) z++;
  return z;
}

/** Bytes as values of the non-zeros plus a one-bit-per-weight mask. */
function sparseBytes(v: Float32Array, width: number): number {
  return (v.length - countZeros(v)) * width + Math.ceil(v.length / 8);
}

function deflatedBytes(raw: Uint8Array): number {
  return deflateRawSync(raw, { level: 6 }).length;
}

interface Candidate {
  readonly layer: Layer;
  readonly weights: WeightTarget[];
}

export async function pruneLayers(ctx: TransformContext, step: PruneStep): Promise<TransformOutcome> {
  if (step.pattern === 'channel') return pruneChannels(ctx, step);
  const outcome: TransformOutcome = { changed: [], skipped: [] };
  const nm = /^(\d+):(\d+)$/.exec(step.pattern);
  const candidates: Candidate[] = [];
  for (const layer of ctx.layers) {
    const all = layerWeights(layer);
    const reasons: string[] = [];
    const weights = all.filter((w) => {
      const why = inPlaceBlocker(w) ?? (nm ? nofMBlocker(w, +nm[2]) : undefined);
      if (why) reasons.push(`'${w.tensor.name}': ${why}`);
      return !why;
    });
    if (all.length === 0) outcome.skipped.push(skip(layer, 'it has no weights of rank 2 or more'));
    else if (weights.length === 0) outcome.skipped.push(skip(layer, reasons.join('; ')));
    else candidates.push({ layer, weights });
  }

  // A global threshold: how many of each tensor's weights fall under it.
  let globalCounts: Map<WeightTarget, number> | undefined;
  if (step.scope === 'global' && !nm) globalCounts = await globalBudget(ctx, candidates, step.sparsity);

  const writer = new MaskedWriter(ctx);
  for (const { layer, weights } of candidates) {
    const changes: TensorChange[] = [];
    const unchanged: string[] = [];
    for (const w of weights) {
      await ctx.checkpoint();
      const original = await readDenseFloat32(w.tensor);
      const pruned = Float32Array.from(original);
      const zerosBefore = countZeros(original);
      if (nm) pruneNofM(pruned, w.tensor.dims, w.role!.reductionAxis, +nm[1], +nm[2]);
      else zeroSmallest(pruned, globalCounts ? (globalCounts.get(w) ?? 0) : Math.round(step.sparsity * pruned.length));
      const zerosAfter = countZeros(pruned);
      // Pruning only writes zeros: as many zeros as before is the same tensor, not an edit.
      if (zerosAfter === zerosBefore) {
        const asked = nm ? `pattern ${step.pattern}` : `sparsity ${step.sparsity}`;
        unchanged.push(`'${w.tensor.name}': ${asked} zeroes no weight that is not zero already (${Math.round((zerosBefore / pruned.length) * 1000) / 10}% are)`);
        continue;
      }
      // Zeros written into the stored bytes: the kept weights stay bit for bit, in their own type.
      const stored = await readRawBytes(w.tensor);
      const width = floatBytes(w.tensor.dataType as FloatSource);
      const raw = zeroedRaw(stored, w.tensor.dataType as FloatSource, pruned);
      const written = writer.write(w.tensor, raw, pruned, width);
      changes.push({
        tensor: w.tensor.name,
        bytesBefore: w.tensor.bytes,
        bytesAfter: written.bytes,
        ...errorOf(original, pruned),
        detail: {
          pattern: step.pattern,
          storage: written.storage,
          ...(written.denseBecause ? { denseBecause: written.denseBecause } : {}),
          sparsityBefore: zerosBefore / pruned.length,
          sparsityAfter: zerosAfter / pruned.length,
          sparseBytesBefore: sparseBytes(original, width),
          sparseBytesAfter: sparseBytes(pruned, width),
          deflatedBytesBefore: deflatedBytes(stored),
          deflatedBytesAfter: deflatedBytes(raw),
        },
      });
    }
    if (changes.length) outcome.changed.push(change(layer, changes));
    else outcome.skipped.push(skip(layer, unchanged.join('; ')));
  }
  writer.finish();
  return outcome;
}

function nofMBlocker(w: WeightTarget, m: number): string | undefined {
  if (!w.role) return 'its reduction axis is unknown (it does not feed a Conv, Gemm, MatMul or RNN weight input directly)';
  const size = w.tensor.dims[w.role.reductionAxis];
  return size % m === 0 ? undefined : `its reduction axis has ${plural(size, 'entry', 'entries')}, not a multiple of ${m}`;
}

/** Splits one global magnitude threshold into a count of weights to zero per tensor. */
async function globalBudget(ctx: TransformContext, candidates: readonly Candidate[], sparsity: number): Promise<Map<WeightTarget, number>> {
  const all = candidates.flatMap((c) => c.weights);
  const total = all.reduce((n, w) => n + w.tensor.elements, 0);
  const magnitudes = new Float32Array(total);
  let at = 0;
  for (const w of all) {
    await ctx.checkpoint();
    const v = await readDenseFloat32(w.tensor);
    for (let i = 0; i < v.length; i++) magnitudes[at++] = Math.abs(v[i]);
  }
  const target = Math.round(sparsity * total);
  const sorted = Float32Array.from(magnitudes).sort();
  const threshold = target > 0 ? sorted[target - 1] : -1;
  // Below the threshold: all zeroed; at it: zeroed in model order until the target is met.
  let ties = 0;
  for (let i = 0; i < target; i++) if (sorted[i] === threshold) ties++;
  const counts = new Map<WeightTarget, number>();
  at = 0;
  for (const w of all) {
    let n = 0;
    for (let i = 0; i < w.tensor.elements; i++) {
      const m = magnitudes[at++];
      if (m < threshold) n++;
      else if (m === threshold && ties > 0) {
        n++;
        ties--;
      }
    }
    counts.set(w, n);
  }
  return counts;
}
