/**
 * Packing a weight into onnxruntime's MatMulNBits layout (com.microsoft), the inverse of
 * analyzers/nbits.ts: W [K, N] is quantized per (output n, block of `blockSize` along K) to
 * unsigned `bits`-bit codes with a scale and a zero point, and stored as B [N, blocks, blob]
 * (codes low bits first, a row's last block padded with its zero point), scales [N · blocks] and
 * zero points packed per row [N · ceil(blocks · bits / 8)].
 */
import { transposed } from '../core/transpose';
import { quantizeValues, rangeOf, scaleLayout, type Codes, type Quantized } from './quantizeMath';
import type { ErrorSums } from './transform';

export interface NBitsPacked {
  /** B: [N, blocks, blockSize · bits / 8]. */
  readonly b: Uint8Array;
  readonly blocks: number;
  readonly blobBytes: number;
  /** One per (n, block), row-major: [N · blocks]. */
  readonly scales: Float32Array;
  /** Packed zero points, or undefined when symmetric (MatMulNBits' default 2^(bits-1) then). */
  readonly zeroPoints?: Uint8Array;
  /** The weight as MatMulNBits computes with it, in W's [K, N] layout ([N, K] from packRowsNBits). */
  readonly restored: Float32Array;
  /** The change's error figures when the quantization kernel summed them (float32 weights: in the kernel's order; others: in W's order). */
  readonly sums?: ErrorSums;
}

/**
 * Packs W [K, N] (`k` rows, `n` columns). `storeScale` rounds a scale to the type it is stored in
 * (FLOAT16 activations take FLOAT16 scales), `storeValue` a restored weight to the compute type.
 */
export function packNBits(
  w: Float32Array, k: number, n: number, bits: 4 | 8, blockSize: number, symmetric: boolean,
  storeScale: (s: number) => number = Math.fround, storeValue: (v: number) => number = Math.fround,
): NBitsPacked {
  const packed = packRowsAsKN(transposed(w, k, n), k, n, bits, blockSize, symmetric, storeScale, storeValue);
  // The kernel adds FLOAT16 and BFLOAT16 weights' energies in its weights' order, [N, K] here: the
  // figures come from the restored values in W's order instead, to the last bit what they were.
  return storeValue === Math.fround ? packed : { ...packed, sums: undefined };
}

/**
 * Packs a weight as a layer stores it: W [K, N], or its rows [N, K] already for a Gemm with
 * transB (MatMulNBits' own layout: no transposing there and back). `restored` is [K, N] either way.
 */
export function packStoredNBits(
  values: Float32Array, k: number, n: number, transB: boolean, bits: 4 | 8, blockSize: number, symmetric: boolean,
  storeScale: (s: number) => number = Math.fround, storeValue: (v: number) => number = Math.fround,
): NBitsPacked {
  return transB ? packRowsAsKN(values, k, n, bits, blockSize, symmetric, storeScale, storeValue) : packNBits(values, k, n, bits, blockSize, symmetric, storeScale, storeValue);
}

/** Rows [N, K] packed, with `restored` given back in [K, N], transposed once when first asked for (the sums mostly stand in). */
function packRowsAsKN(
  rows: Float32Array, k: number, n: number, bits: 4 | 8, blockSize: number, symmetric: boolean,
  storeScale: (s: number) => number, storeValue: (v: number) => number,
): NBitsPacked {
  const q = quantizeRows(rows, n, k, bits, blockSize, symmetric, storeScale, storeValue);
  let restored: Float32Array | undefined;
  return { ...packColumns(q.codes, q.scales, q.zeroPoints, k, n, bits, blockSize, symmetric), get restored() { return (restored ??= transposed(q.restored, n, k)); }, sums: q.sums };
}

/**
 * Packs a matrix already laid out as MatMulNBits' rows, [N, K] (`n` rows of `k` values, blocks
 * along each row; an embedding table for GatherBlockQuantized); `restored` stays [N, K].
 */
export function packRowsNBits(
  rows: Float32Array, n: number, k: number, bits: 4 | 8, blockSize: number, symmetric: boolean,
  storeScale: (s: number) => number = Math.fround, storeValue: (v: number) => number = Math.fround,
): NBitsPacked {
  const q = quantizeRows(rows, n, k, bits, blockSize, symmetric, storeScale, storeValue);
  return { ...packColumns(q.codes, q.scales, q.zeroPoints, k, n, bits, blockSize, symmetric), get restored() { return q.restored; }, sums: q.sums };
}

function quantizeRows(
  rows: Float32Array, n: number, k: number, bits: 4 | 8, blockSize: number, symmetric: boolean,
  storeScale: (s: number) => number, storeValue: (v: number) => number,
): Quantized {
  return quantizeValues(rows, scaleLayout([n, k], 'block', 1, blockSize), rangeOf(bits === 4 ? 'uint4' : 'uint8'), symmetric, storeScale, storeValue);
}

/**
 * Packs a weight already quantized on W [K, N] with block scales [blocks, N] (gptqLayout's
 * 'block' layout, e.g. by GPTQ) to unsigned `bits`-bit codes (uint4 or uint8).
 */
export function packQuantizedNBits(q: Quantized, k: number, n: number, bits: 4 | 8, blockSize: number, symmetric: boolean): NBitsPacked {
  const blocks = Math.ceil(k / blockSize);
  if (q.codes.length !== k * n || q.scales.length !== blocks * n) throw new Error(`MatMulNBits: codes for [${k}, ${n}] and ${blocks * n} block scales needed, got ${q.codes.length} and ${q.scales.length}`);
  const top = 2 ** bits - 1;
  if (q.codes.some((c) => c < 0 || c > top)) throw new Error(`MatMulNBits stores codes 0…${top}; these are signed or wider`);
  if (symmetric && q.zeroPoints.some((z) => z !== 2 ** (bits - 1))) throw new Error(`symmetric MatMulNBits needs every zero point at ${2 ** (bits - 1)}`);
  const packed = packColumns(transposed(q.codes, k, n), transposed(q.scales, blocks, n), transposed(q.zeroPoints, blocks, n), k, n, bits, blockSize, symmetric);
  return { ...packed, restored: q.restored };
}

/** B, scales and packed zero points from codes [N, K] and per-(n, block) scales and zero points [N, blocks]. */
function packColumns(
  codes: Codes, scales: Float32Array, zeros: Int32Array,
  k: number, n: number, bits: 4 | 8, blockSize: number, symmetric: boolean,
): Omit<NBitsPacked, 'restored' | 'sums'> {
  const blocks = Math.ceil(k / blockSize);
  const blobBytes = (blockSize * bits) / 8;
  const perByte = 8 / bits;
  const b = new Uint8Array(n * blocks * blobBytes);
  for (let row = 0; row < n; row++) {
    for (let block = 0; block < blocks; block++) {
      const zero = zeros[row * blocks + block];
      const at = (row * blocks + block) * blobBytes;
      const from = row * k + block * blockSize;
      const whole = Math.min(blockSize, k - block * blockSize); // codes in the block; the rest is padding
      if (bits === 8) for (let j = 0; j < whole; j++) b[at + j] = codes[from + j];
      else for (let j = 0; j + 1 < whole; j += 2) b[at + (j >> 1)] = codes[from + j] | (codes[from + j + 1] << 4);
      // The tail of a row's last block: padding past K is the zero point (a 0 weight).
      for (let j = bits === 8 ? whole : whole & ~1; j < blockSize; j++) {
        const code = j < whole ? codes[from + j] : zero;
        b[at + Math.floor(j / perByte)] |= code << ((j % perByte) * bits);
      }
    }
  }
  let zeroPoints: Uint8Array | undefined;
  if (!symmetric) {
    const rowBytes = Math.ceil((blocks * bits) / 8);
    zeroPoints = new Uint8Array(n * rowBytes);
    for (let row = 0; row < n; row++) {
      for (let block = 0; block < blocks; block++) {
        const bit = block * bits;
        zeroPoints[row * rowBytes + (bit >> 3)] |= zeros[row * blocks + block] << (bit & 7);
      }
    }
  }
  return { b, blocks, blobBytes, scales, zeroPoints };
}
