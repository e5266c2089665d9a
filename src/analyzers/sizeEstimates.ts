/**
 * What a model's weights would take with each method at its default setting, layer by layer: the
 * sizes the transforms would write (the same formulas: resultBytes.ts), for float weights, masked
 * ones (dense) and already-quantized ones the transforms re-quantize.
 */
import { DataType, dataTypeName, floatBytes } from '../core/onnx/dataTypes';
import type { StoredTensor } from '../core/onnx/modelIndex';
import type { Layer } from './layers';
import type { WeightSummary } from './modelSummary';
import { clusteredBytes, quantizedBytes } from './resultBytes';
import { castOperand, weightRole, type WeightRole } from './weightRole';
import { realWeightChain } from './realWeightChain';

/** A layer as the model's estimates need it. */
export interface SizedLayer {
  readonly sizeAt: SizeAt;
  /** Its weights' bytes as stored. */
  readonly bytes: number;
  /** realShape: the dense weight's, where it differs from the stored tensor's (masked, MatMulNBits). */
  readonly weights: readonly { readonly name: string; readonly elements: number; readonly realShape?: readonly number[] }[];
  readonly redundancy?: { readonly weight: string; readonly huffmanBytesInt8: number } | null;
}

/** What the weights would take on disk with each method at its default setting. */
export interface SizeEstimates {
  storedBytes: number;
  float16Bytes: number;
  int8PerChannelBytes: number;
  int4PerChannelBytes: number;
  cluster16Bytes: number;
  huffmanInt8Bytes: number | null;
}

/** Bytes a weight would take with each method at its default setting. */
export interface SizeAt {
  float16: number;
  int8: number;
  int4: number;
  cluster16: number;
}

const FLOAT_TYPES: Record<string, number> = { FLOAT: DataType.Float, DOUBLE: DataType.Double, FLOAT16: DataType.Float16, BFLOAT16: DataType.BFloat16 };

/** How the layer's op uses a value (a weight's name, or the real values of a chain), when it feeds the op directly or through Casts. */
function roleOf(layer: Layer, value: string, rank: number): WeightRole | undefined {
  const found = castOperand(layer, value);
  return found ? weightRole(layer.node.node, found.operand, rank) : undefined;
}

/** A weight's non-finite share, once its statistics are known. */
type WithStats = WeightSummary & { readonly stats?: { readonly nanFraction: number; readonly infFraction: number } };

/**
 * The layer's bytes with each method, weight by weight (`summaries` in the layer's weights'
 * order). A weight holding NaN or Inf (a mask, a constant) stays as stored: the transforms refuse it.
 */
export function layerSizeAt(layer: Layer, summaries: readonly WithStats[]): SizeAt {
  const chains = chainSizes(layer, summaries);
  return sumSizes(
    summaries.map((w, k) => {
      const t = layer.weights[k];
      if (w.stats && w.stats.nanFraction + w.stats.infFraction > 0) return { float16: w.bytes, int8: w.bytes, int4: w.bytes, cluster16: w.bytes };
      return chains.get(t) ?? maskedSizeAt(w, layer, t) ?? weightSizeAt(w, t.isValue ? roleOf(layer, t.name, t.dims.length) : undefined);
    }),
  );
}

/**
 * Already-quantized weights the transforms re-quantize (realWeightChain: DequantizeLinear codes,
 * clustered indices): what they would write for the real weight, a float weight of the chain's
 * value type, and never more than the chain stores now (a transform that would not shrink a weight
 * leaves it as it is). The chain's codes carry that size; its scales, zero points and codebook
 * nothing of their own. Integer ops' weights (QLinearConv, MatMulNBits, GatherBlockQuantized...)
 * stay as stored with their parameters, as the transforms leave them.
 */
function chainSizes(layer: Layer, summaries: readonly WeightSummary[]): Map<StoredTensor, SizeAt> {
  const out = new Map<StoredTensor, SizeAt>();
  const nothing: SizeAt = { float16: 0, int8: 0, int4: 0, cluster16: 0 };
  const asStored = (t: StoredTensor): void => void out.set(t, { float16: t.bytes, int8: t.bytes, int4: t.bytes, cluster16: t.bytes });
  for (const [codes, d] of layer.dequantized ?? []) {
    if (d.kind === 'masked') continue; // maskedSizeAt
    const chain = realWeightChain(layer, codes);
    // The transforms leave integer ops' weights, and weights of rank < 2 (a static model's INT32 biases)
    if (!chain || !layer.weights.includes(codes) || codes.dims.length < 2) {
      [codes, ...(d.kind === 'codebook' ? [d.codebook] : [d.scale, d.zeroPoint])].forEach((t) => t && layer.weights.includes(t) && asStored(t));
      continue;
    }
    const k = layer.weights.indexOf(codes);
    const width = floatBytes(chain.valueType);
    const real = { ...summaries[k], dataType: dataTypeName(chain.valueType), bytes: codes.elements * width };
    const dense = weightSizeAt(real, roleOf(layer, chain.value, codes.dims.length));
    // A per-tensor scale and zero point are scalars the layer does not own: they count where they are.
    const mine = chain.stored.filter((t) => layer.weights.includes(t));
    const stored = mine.reduce((n, t) => n + t.bytes, 0);
    out.set(codes, { float16: Math.min(stored, dense.float16), int8: Math.min(stored, dense.int8), int4: Math.min(stored, dense.int4), cluster16: Math.min(stored, dense.cluster16) });
    for (const t of mine.slice(1)) out.set(t, nothing);
  }
  return out;
}

/** What the transforms would write at each default setting (the same formulas: resultBytes.ts; FLOAT16 scales for FLOAT16 weights). */
function weightSizeAt(w: WeightSummary, role?: WeightRole): SizeAt {
  const type = FLOAT_TYPES[w.dataType];
  if (type === undefined || w.shape.length < 2) return { float16: w.bytes, int8: w.bytes, int4: w.bytes, cluster16: w.bytes };
  const width = w.bytes / Math.max(1, w.elements);
  const perChannel = (dtype: string): number => quantizedBytes(w.shape, type, role, { dtype, granularity: 'per-channel', blockSize: 32, symmetric: true }, true);
  return {
    float16: width > 2 ? w.elements * 2 : w.bytes,
    int8: perChannel('int8'),
    int4: perChannel('int4'),
    cluster16: clusteredBytes(w.elements, 16, width, true),
  };
}

/**
 * A masked float weight's part: every method writes the dense weight (FP16 too), so the non-zeros
 * carry the dense weight's size and the mask nothing, each never above the pair as stored (a step
 * that would grow it leaves it). Undefined for other weights (masked codebook indices are already
 * compressed: as stored).
 */
function maskedSizeAt(w: WeightSummary, layer: Layer, t: StoredTensor): SizeAt | undefined {
  for (const [values, d] of layer.dequantized ?? []) {
    if (d.kind !== 'masked' || d.codebook) continue;
    if (t === d.mask) return { float16: 0, int8: 0, int4: 0, cluster16: 0 };
    if (t !== values) continue;
    const elements = d.dims.reduce((a, b) => a * b, 1);
    const dense = weightSizeAt({ ...w, shape: [...d.dims], elements, bytes: elements * (w.bytes / Math.max(1, w.elements)) });
    const stored = w.bytes + d.mask.bytes;
    return { float16: Math.min(stored, dense.float16), int8: Math.min(stored, dense.int8), int4: Math.min(stored, dense.int4), cluster16: Math.min(stored, dense.cluster16) };
  }
  return undefined;
}

function sumSizes(sizes: SizeAt[]): SizeAt {
  const total: SizeAt = { float16: 0, int8: 0, int4: 0, cluster16: 0 };
  for (const s of sizes) {
    total.float16 += s.float16;
    total.int8 += s.int8;
    total.int4 += s.int4;
    total.cluster16 += s.cluster16;
  }
  return total;
}

/**
 * INT8 per channel with the main weights' codes Huffman-coded: the INT8 estimate with each main
 * weight's one byte a code replaced by its coded size (its scales and the layer's other weights,
 * an LSTM's recurrent ones say, stay as INT8 writes them); null unless every layer has it.
 */
function huffmanBytes(layers: readonly SizedLayer[]): number | null {
  let total = 0;
  for (const l of layers) {
    if (!l.redundancy) return null;
    // one INT8 code per weight of the real (dense) weight
    const main = l.weights.find((w) => w.name === l.redundancy!.weight);
    const codes = main ? (main.realShape?.reduce((a, b) => a * b, 1) ?? main.elements) : 0;
    // never above the layer as stored: codes already smaller than INT8 (4-bit, clustered) stay
    total += Math.min(l.bytes, l.sizeAt.int8 - Math.min(codes, l.sizeAt.int8) + l.redundancy.huffmanBytesInt8);
  }
  return total;
}

/** The model's estimates: its layers' sizes summed, the weights outside layers as they are. */
export function estimateSizes(sized: readonly SizedLayer[], unattributed: readonly { bytes: number }[], storedBytes: number): SizeEstimates {
  const huffmanInt8Bytes = huffmanBytes(sized);
  const layers = sumSizes(sized.map((l) => l.sizeAt));
  const rest = unattributed.reduce((n, w) => n + w.bytes, 0);
  return {
    storedBytes,
    float16Bytes: layers.float16 + rest,
    int8PerChannelBytes: layers.int8 + rest,
    int4PerChannelBytes: layers.int4 + rest,
    cluster16Bytes: layers.cluster16 + rest,
    huffmanInt8Bytes: huffmanInt8Bytes === null ? null : huffmanInt8Bytes + rest,
  };
}
