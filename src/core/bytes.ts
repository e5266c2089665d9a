/** Byte helpers shared by the core. */

/** Joins parts into one array (returns the single part itself when there is only one). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Bytes staged at a time when copying out of shared memory at a misaligned offset (stays in L2). */
const STAGE_BYTES = 1 << 16;
let stage: Uint8Array | undefined;

/**
 * dst.set(src), also fast when src is in a SharedArrayBuffer at an offset not co-aligned with
 * dst's modulo 8: V8 copies shared memory byte by byte then (measured 1.9 GB/s, against 7 when
 * co-aligned; the analysis workers read tensors out of the file the workers share). Such a copy
 * goes through a small non-shared stage placed co-aligned with the source.
 */
export function copyBytes(dst: Uint8Array, src: Uint8Array, at = 0): void {
  const shift = (src.byteOffset - (dst.byteOffset + at)) & 7;
  if (shift === 0 || !(src.buffer instanceof SharedArrayBuffer) || src.length < 256) {
    dst.set(src, at);
    return;
  }
  stage ??= new Uint8Array(STAGE_BYTES + 8);
  const lead = (src.byteOffset - stage.byteOffset) & 7; // where in the stage a byte of src lands co-aligned
  for (let from = 0; from < src.length; from += STAGE_BYTES) {
    const piece = src.subarray(from, Math.min(src.length, from + STAGE_BYTES));
    stage.set(piece, lead);
    dst.set(stage.subarray(lead, lead + piece.length), at + from);
  }
}
