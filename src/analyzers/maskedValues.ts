/**
 * The dense values of a masked weight, chunk by chunk: the mask places the non-zeros (already
 * read whole, as they are what is stored) and leaves zeros elsewhere, so the statistics, the
 * histogram and the low-rank figures describe the weight the model computes with.
 */
import type { MaskedDequantize } from './dequantize';

/** Set bits among the first `n` bits of `mask`. */
export function maskedCount(mask: Uint8Array, n: number): number {
  let count = 0;
  for (let i = 0; i < n; i++) count += (mask[i >> 3] >> (i & 7)) & 1;
  return count;
}

export async function forEachMaskedChunk(
  p: MaskedDequantize,
  chunkElements: number,
  each: (values: Float32Array, firstElement: number) => void | Promise<void>,
  into?: (count: number) => Float32Array,
): Promise<void> {
  const n = p.dims.reduce((a, b) => a * b, 1);
  const step = Math.max(1, chunkElements);
  const buffer = into ? undefined : new Float32Array(Math.min(step, n));
  // The rank of the next non-zero, carried from chunk to chunk.
  let r = 1;
  for (let first = 0; first < n; first += step) {
    const count = Math.min(step, n - first);
    const out = into ? into(count) : buffer!.subarray(0, count);
    for (let j = 0; j < count; j++) {
      const i = first + j;
      out[j] = (p.mask[i >> 3] >> (i & 7)) & 1 ? p.values[r++] : 0;
    }
    await each(out, first);
  }
}
