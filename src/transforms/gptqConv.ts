/**
 * GPTQ on a 2-D Conv weight W [M, C/g, kh, kw]: per group of channels, the weight as a matrix
 * [K, M/g] whose rows are the im2col features in (y, x, c) order (convHessian.ts), quantized by
 * gptqQuantize with that group's Hessian, and the result put back in W's own order. Scales are
 * per output channel (DequantizeLinear axis 0) or per block of input channels (axis 1, blocks of
 * `blockSize` channels at each kernel position). When C/g is not a whole number of blocks, each
 * kernel position's channels are padded to whole blocks with rows of zero weights that no input
 * reaches (their Hessian rows are zero off the diagonal): they quantize to 0 exactly and carry no
 * error, so the padding changes nothing but the row numbering.
 */
import type { NodeInfo } from '../core/onnx/modelIndex';
import { attrInt, attrInts, attrString } from '../analyzers/shapeValues';
import type { AutoPad, ConvGeometry } from './convHessian';
import { gptqQuantize, type GptqOptions } from './gptq';
import { factorArray } from './cholesky';
import type { WideQuantized } from './quantizeMath';

export interface ConvShape {
  readonly geometry: ConvGeometry;
  /** Output channels M, input channels per group C/g, kernel height and width. */
  readonly m: number;
  readonly cg: number;
  readonly kh: number;
  readonly kw: number;
}

const AUTO_PADS: readonly string[] = ['NOTSET', 'VALID', 'SAME_UPPER', 'SAME_LOWER'];

/** A 2-D Conv's geometry from its node and weight dims [M, C/g, kh, kw], or why GPTQ cannot take it. */
export function convShape(n: NodeInfo, dims: readonly number[]): ConvShape | string {
  if (dims.length !== 4) return `GPTQ takes 2-D Convs; this weight has ${dims.length} dims`;
  const [m, cg, kh, kw] = dims;
  const group = attrInt(n, 'group', 1);
  const autoPad = attrString(n, 'auto_pad') ?? 'NOTSET';
  if (!AUTO_PADS.includes(autoPad)) return `its auto_pad '${autoPad}' is not an ONNX value`;
  if (m % group !== 0) return `its ${m} outputs do not split into ${group} groups`;
  const pads = attrInts(n, 'pads') ?? [0, 0, 0, 0];
  const strides = attrInts(n, 'strides') ?? [1, 1];
  const dilations = attrInts(n, 'dilations') ?? [1, 1];
  if (pads.length !== 4 || strides.length !== 2 || dilations.length !== 2) return 'its pads, strides or dilations are not those of a 2-D Conv';
  return {
    m, cg, kh, kw,
    geometry: { group, kernel: [kh, kw], strides: [strides[0], strides[1]], dilations: [dilations[0], dilations[1]], pads: [pads[0], pads[1], pads[2], pads[3]], autoPad: autoPad as AutoPad },
  };
}

/** Rows per kernel position in the matrix GPTQ sees: C/g, padded to whole blocks. */
export function paddedChannels(cg: number, blockSize: number): number {
  return blockSize > 0 ? Math.ceil(cg / blockSize) * blockSize : cg;
}

/** Group `gi`'s weights as [K', M/g] (K' = kh·kw·padded channels) and its Hessian over the same rows. */
function groupMatrix(values: Float32Array, hessians: Float64Array, s: ConvShape, gi: number, cp: number): { w: Float32Array; h: Float64Array } {
  const { m, cg, kh, kw } = s;
  const mg = m / s.geometry.group;
  const positions = kh * kw;
  const k = positions * cg;
  const kp = positions * cp;
  const w = new Float32Array(kp * mg);
  for (let j = 0; j < mg; j++) {
    for (let c = 0; c < cg; c++) {
      const from = ((gi * mg + j) * cg + c) * positions;
      for (let p = 0; p < positions; p++) w[(p * cp + c) * mg + j] = values[from + p];
    }
  }
  const src = hessians.subarray(gi * k * k, (gi + 1) * k * k);
  const h = factorArray(kp); // where GPTQ factors it in place
  let diagonal = 0;
  for (let i = 0; i < k; i++) diagonal += src[i * k + i];
  for (let a = 0; a < k; a++) {
    const row = (Math.floor(a / cg) * cp + (a % cg)) * kp;
    for (let b = 0; b < k; b++) h[row + Math.floor(b / cg) * cp + (b % cg)] = src[a * k + b];
  }
  // Padded rows: the real rows' mean on the diagonal, so dampening (a share of the mean) is unchanged.
  for (let p = 0; p < positions; p++) for (let c = cg; c < cp; c++) h[(p * cp + c) * (kp + 1)] = diagonal / k;
  return { w, h };
}

/**
 * GPTQ on a Conv weight (stored [M, C/g, kh, kw]) with its groups' Hessians [g, K, K] (features
 * in (y, x, c) order); codes, restored values, scales [M] or [M, ⌈C/g / B⌉, kh, kw] and zero
 * points come back in the stored order.
 */
export async function gptqConv(values: Float32Array, hessians: Float64Array, s: ConvShape, options: GptqOptions): Promise<WideQuantized> {
  const { m, cg, kh, kw } = s;
  const groups = s.geometry.group;
  const mg = m / groups;
  const positions = kh * kw;
  const block = options.granularity === 'block' ? (options.blockSize ?? 32) : 0;
  const cp = paddedChannels(cg, block);
  const blocks = block ? cp / block : 1;
  const codes = new Int32Array(values.length);
  const restored = new Float32Array(values.length);
  const scales = new Float32Array(block ? m * blocks * positions : m);
  const zeroPoints = new Int32Array(scales.length);
  for (let gi = 0; gi < groups; gi++) {
    await options.checkpoint?.();
    const { w, h } = groupMatrix(values, hessians, s, gi, cp);
    const q = await gptqQuantize(w, positions * cp, mg, h, { ...options, overwriteHessian: true }); // h is this group's copy
    for (let j = 0; j < mg; j++) {
      const out = gi * mg + j;
      for (let c = 0; c < cg; c++) {
        for (let p = 0; p < positions; p++) {
          codes[(out * cg + c) * positions + p] = q.codes[(p * cp + c) * mg + j];
          restored[(out * cg + c) * positions + p] = q.restored[(p * cp + c) * mg + j];
        }
      }
      if (!block) {
        scales[out] = q.scales[j];
        zeroPoints[out] = q.zeroPoints[j];
        continue;
      }
      for (let b = 0; b < blocks; b++) {
        for (let p = 0; p < positions; p++) {
          scales[(out * blocks + b) * positions + p] = q.scales[(p * blocks + b) * mg + j];
          zeroPoints[(out * blocks + b) * positions + p] = q.zeroPoints[(p * blocks + b) * mg + j];
        }
      }
    }
  }
  return { codes, restored, scales, zeroPoints };
}
