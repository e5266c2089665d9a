/**
 * The bytes a step will leave each layer with, worked out before it runs by the same choices the
 * transforms make (which weights they take, scale layouts, FLOAT16 scales, 4-bit indices, masked
 * storage) and the size formulas they build tensors by (analyzers/resultBytes.ts). The editor's
 * preview shows these; `exact` says when the figure is the one Apply gets to the byte.
 */
import { DataType } from '../core/onnx/dataTypes';
import type { StoredTensor } from '../core/onnx/modelIndex';
import type { Layer } from '../analyzers/layers';
import { clusteredBytes, codeBits, maskedBytes, maskedCodeBytes, nbitsBytes, quantizedBytes } from '../analyzers/resultBytes';
import { floatBytes, type FloatSource } from './floatSource';
import { sourceTypeOf } from './weightSource';
import { opsetNeeded } from './quantize';
import { HALF_DEQUANTIZE_OPSET } from './dequantizeOutput';
import { maskedOpset } from './maskedStorage';
import { defaultOpset } from './opset';
import { planOpsetRaise } from './opsetUpgrade';
import { NameAllocator } from './names';
import { chainBytes } from '../analyzers/realWeightChain';
import type { RecipeStep } from './recipe';
import { blockerFor, layerName, layerWeights, type WeightTarget } from './targets';
import type { ModelState } from './transform';

export interface PlannedLayer {
  readonly layer: string;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** False when the figure depends on what only the values show (k-means ties, N:M groups, ranks by energy). */
  readonly exact: boolean;
}

/** Zero count of a stored tensor (from the analysis), when known. */
export type ZerosOf = (t: StoredTensor) => number | undefined;

export function plannedBytes(state: ModelState, step: RecipeStep, layers: readonly Layer[], zerosOf: ZerosOf = () => undefined): PlannedLayer[] {
  const reachable = opsetReach(state);
  const out: PlannedLayer[] = [];
  for (const layer of layers) {
    const plan = planLayer(step, layer, reachable, zerosOf);
    if (plan) out.push({ layer: layerName(layer), ...plan });
  }
  return out;
}

/** Whether the model's opset can be raised to `target` (memoized per target). */
function opsetReach(state: ModelState): (target: number) => boolean {
  const known = new Map<number, boolean>();
  const current = defaultOpset(state.proto.opsetImport);
  return (target) => {
    let ok = known.get(target);
    if (ok === undefined) known.set(target, (ok = target <= current || !planOpsetRaise(state.index, current, target, new NameAllocator(state.index)).blocker));
    return ok;
  };
}

type Plan = Omit<PlannedLayer, 'layer'>;

/** A weight the transform leaves as it is. */
const UNCHANGED = Infinity;

function planLayer(step: RecipeStep, layer: Layer, reach: (opset: number) => boolean, zerosOf: ZerosOf): Plan | undefined {
  const blocker = blockerFor(step);
  const weights = layerWeights(layer).filter((w) => blocker(w) === undefined);
  let before = 0;
  let after = 0;
  let exact = true;
  for (const w of weights) {
    const b = w.real ? chainBytes(w.real) : w.tensor.bytes;
    const a = weightBytes(step, w, reach, zerosOf);
    if (a === undefined) return undefined; // a step the plan cannot size: the preview's estimate stands
    exact &&= a.exact;
    // The transforms leave a weight as it is when the new form is not smaller.
    before += b;
    after += Math.min(b, a.bytes);
  }
  return weights.length ? { bytesBefore: before, bytesAfter: after, exact } : undefined;
}

function weightBytes(step: RecipeStep, w: WeightTarget, reach: (opset: number) => boolean, zerosOf: ZerosOf): { bytes: number; exact: boolean } | undefined {
  const t = w.tensor;
  const source = step.transform === 'prune' ? (t.dataType as FloatSource) : sourceTypeOf(w);
  const n = t.elements;
  switch (step.transform) {
    case 'quantize': {
      if (step.mode === 'static') return undefined;
      if (step.format === 'matmulnbits') {
        const op = w.layer.node.node.opType;
        const scaleWidth = source === DataType.Float16 ? 2 : 4;
        // An embedding table [rows, cols] as GatherBlockQuantized: blocks along its rows, no padding.
        if (op === 'Gather' && w.operand === 0 && t.dims.length === 2) {
          const [rows, cols] = t.dims;
          return cols % step.blockSize ? { bytes: UNCHANGED, exact: true } : { bytes: nbitsBytes(cols, rows, codeBits(step.dtype), step.blockSize, step.symmetric, scaleWidth), exact: false };
        }
        if (w.operand !== 1 || (op !== 'MatMul' && op !== 'Gemm') || t.dims.length !== 2) return { bytes: UNCHANGED, exact: true };
        const transB = op === 'Gemm' && w.layer.node.node.attribute.some((a) => a.name === 'transB' && Number(a.i) === 1);
        const [k, cols] = transB ? [t.dims[1], t.dims[0]] : [t.dims[0], t.dims[1]];
        return { bytes: nbitsBytes(k, cols, codeBits(step.dtype), step.blockSize, step.symmetric, scaleWidth), exact: false };
      }
      if (step.dtype === 'float16') return { bytes: w.real || floatBytes(source) > 2 ? n * 2 : UNCHANGED, exact: true };
      // The opset quantize needs for this setting, and HALF_DEQUANTIZE_OPSET for FLOAT16 scales.
      const needed = opsetNeeded(step);
      if (!reach(needed)) return { bytes: UNCHANGED, exact: true };
      const halfScales = source === DataType.Float16 && reach(Math.max(needed, HALF_DEQUANTIZE_OPSET));
      // Re-quantizing to the very same values is refused; only the values tell, so not exact.
      return { bytes: quantizedBytes(t.dims, source, w.role, step, halfScales), exact: !w.real };
    }
    case 'cluster': {
      if (n <= step.clusters) return { bytes: UNCHANGED, exact: true };
      const nibbles = step.clusters <= 16 && reach(21);
      const dense = clusteredBytes(n, step.clusters, floatBytes(source), nibbles);
      // Fewer distinct values than clusters shrink the codebook; zeros kept may store indices masked.
      if (!step.keepZero) return { bytes: dense, exact: false };
      const zeros = zerosOf(t) ?? 0;
      const masked = step.clusters * floatBytes(source) + maskedCodeBytes(t.dims, n - zeros, nibbles);
      return { bytes: zeros > 0 && reach(maskedOpset(source)) ? Math.min(dense, masked) : dense, exact: false };
    }
    case 'prune': {
      if (step.pattern === 'channel') return undefined;
      const zeros = zerosOf(t);
      const width = floatBytes(source);
      const nm = /^(\d+):(\d+)$/.exec(step.pattern);
      const zeroed = nm ? Math.round((n * (+nm[2] - +nm[1])) / +nm[2]) : Math.round(step.sparsity * n);
      // Unstructured pruning zeroes exactly that many (the zeros already there first); N:M may find more.
      const nonZeros = n - Math.max(zeroed, zeros ?? 0);
      const masked = reach(maskedOpset(source)) ? maskedBytes(t.dims, nonZeros, width) : Infinity;
      return { bytes: Math.min(t.bytes, masked), exact: zeros !== undefined && !nm && step.scope === 'layer' };
    }
    case 'factorize':
      return undefined;
  }
}
