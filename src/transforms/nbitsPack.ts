/**
 * Packing a weight into onnxruntime's MatMulNBits layout (com.microsoft), the inverse of
 * analyzers/nbits.ts: W [K, N] is quantized per (output n, block of `blockSize` along K) to
 * unsigned `bits`-bit codes with a scale and a zero point, and stored as B [N, blocks, blob]
 * (codes low bits first, a row's last block padded with its zero point), scales [N · blocks] and
 * zero points packed per row [N · ceil(blocks · bits / 8)].
 */
import { quantizeValues, rangeOf, scaleLayout, type Quantized } from './quantizeMath';

export interface NBitsPacked {
  /** B: [N, blocks, blockSize · bits / 8]. */
  readonly b: Uint8Array;
  readonly blocks: number;
  readonly blobBytes: number;
  /** One per (n, block), row-major: [N · blocks]. */
  readonly scales: Float32Array;
  /** Packed zero points, or undefined when symmetric (MatMulNBits' default 2^(bits-1) then). */
  readonly zeroPoints?: Uint8Array;
  /** The weight as MatMulNBits computes with it, in W's [K, N] layout. */
  readonly restored: Float32Array;
}

/** W [K, N] row-major as Wᵀ [N, K]: MatMulNBits quantizes and stores by output column. */
function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = w[i * cols + j];
  return out;
}

/**
 * Packs W [K, N] (`k` rows, `n` columns). `storeScale` rounds a scale to the type it is stored in
 * (FLOAT16 activations take FLOAT16 scales), `storeValue` a restored weight to the compute type.
 */
export function packNBits(
  w: Float32Array, k: number, n: number, bits: 4 | 8, blockSize: number, symmetric: boolean,
  storeScale: (s: number) => number = Math.fround, storeValue: (v: number) => number = Math.fround,
): NBitsPacked {
  const columns = transpose(w, k, n);
  const layout = scaleLayout([n, k], 'block', 1, blockSize);
  const q: Quantized = quantizeValues(columns, layout, rangeOf(bits === 4 ? 'uint4' : 'uint8'), symmetric, storeScale, storeValue);
  const blocks = Math.ceil(k / blockSize);
  const blobBytes = (blockSize * bits) / 8;
  const perByte = 8 / bits;
  const b = new Uint8Array(n * blocks * blobBytes);
  for (let row = 0; row < n; row++) {
    for (let block = 0; block < blocks; block++) {
      const zero = q.zeroPoints[row * blocks + block];
      const at = (row * blocks + block) * blobBytes;
      for (let j = 0; j < blockSize; j++) {
        const kk = block * blockSize + j;
        const code = kk < k ? q.codes[row * k + kk] : zero; // padding past K: the zero point (a 0 weight)
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
        zeroPoints[row * rowBytes + (bit >> 3)] |= q.zeroPoints[row * blocks + block] << (bit & 7);
      }
    }
  }
  return { b, blocks, blobBytes, scales: q.scales, zeroPoints, restored: transpose(q.restored, n, k) };
}
