/**
 * MatMulNBits' packed weight (onnxruntime com.microsoft): B holds, for each output n, K codes of
 * `bits` bits in blocks of `blockSize`, packed low bits first into `blockSize * bits / 8` bytes a
 * block; the last block of a row is padded when K is not a multiple of it. Unpacked here in
 * byte ranges, dequantized as (code - zero point) * scale per (n, block), and handed on as the
 * real weight read as [N, K] (row n is output channel n), so no more than a chunk is ever held.
 */
import { readExternalBytes } from '../core/onnx/externalData';
import { readRawBytes } from '../core/onnx/tensorData';
import type { TensorInfo } from '../core/onnx/tensor';
import { DataType } from '../core/onnx/dataTypes';
import type { NBitsDequantize } from './dequantize';

export interface NBitsLayout {
  readonly bits: number;
  readonly k: number;
  readonly n: number;
  readonly blockSize: number;
}

/** Blocks per row and bytes per block; undefined for layouts we do not unpack (bits not 2, 4 or 8). */
export function nbitsGeometry(l: NBitsLayout): { blocks: number; blobBytes: number } | undefined {
  if (![2, 4, 8].includes(l.bits) || !(l.k > 0 && l.n > 0 && l.blockSize > 0) || (l.blockSize * l.bits) % 8 !== 0) return undefined;
  return { blocks: Math.ceil(l.k / l.blockSize), blobBytes: (l.blockSize * l.bits) / 8 };
}

/** Whether B, the scales and the zero points have the sizes the attributes say. */
export function nbitsFits(b: TensorInfo, scaleElements: number, zeroPoint: TensorInfo | undefined, l: NBitsLayout): boolean {
  const g = nbitsGeometry(l);
  if (!g || b.dataType !== DataType.Uint8 || b.elements !== l.n * g.blocks * g.blobBytes || scaleElements !== l.n * g.blocks) return false;
  if (!zeroPoint) return true;
  return zeroPoint.dataType === DataType.Uint8 ? zeroPoint.elements === l.n * Math.ceil((g.blocks * l.bits) / 8) : zeroPoint.elements === l.n * g.blocks;
}

/** One zero point per (n, block): unpacked from uint8 bytes (low bits first, each row starting on a byte), or as stored when float. */
export function unpackZeroPoints(stored: Float32Array | undefined, packed: boolean, l: NBitsLayout): Float32Array {
  const { blocks } = nbitsGeometry(l)!;
  const out = new Float32Array(l.n * blocks);
  if (!stored) return out.fill(2 ** (l.bits - 1));
  if (!packed) return out.set(stored), out;
  const rowBytes = Math.ceil((blocks * l.bits) / 8);
  const mask = (1 << l.bits) - 1;
  for (let n = 0; n < l.n; n++) {
    for (let b = 0; b < blocks; b++) {
      const bit = b * l.bits;
      out[n * blocks + b] = (stored[n * rowBytes + (bit >> 3)] >> (bit & 7)) & mask;
    }
  }
  return out;
}

/** Where byte `b` of B starts in the real [N, K] values (padding codes past K are not values). */
function realIndex(b: number, l: NBitsLayout, rowBytes: number, perByte: number): number {
  return Math.floor(b / rowBytes) * l.k + Math.min(l.k, (b % rowBytes) * perByte);
}

/**
 * Calls `each` with consecutive chunks of the real weight, [N, K] in row-major order, about
 * `chunkElements` values each, written into `into(count)` when given.
 */
export async function forEachNBitsChunk(
  t: TensorInfo,
  p: NBitsDequantize,
  chunkElements: number,
  each: (values: Float32Array, firstElement: number) => void | Promise<void>,
  into?: (count: number) => Float32Array,
): Promise<void> {
  const { blocks, blobBytes } = nbitsGeometry(p)!;
  const rowBytes = blocks * blobBytes;
  const perByte = 8 / p.bits;
  const mask = (1 << p.bits) - 1;
  const chunkBytes = Math.max(1, Math.floor(chunkElements / perByte));
  const storage = t.storage;
  const whole = storage.kind === 'external' ? undefined : await readRawBytes(t);
  const buffer = into ? undefined : new Float32Array(Math.min(chunkBytes * perByte, p.n * p.k));
  for (let b0 = 0; b0 < t.bytes; b0 += chunkBytes) {
    const b1 = Math.min(t.bytes, b0 + chunkBytes);
    const bytes = whole
      ? whole.subarray(b0, b1)
      : storage.kind === 'external'
        ? await readExternalBytes(storage.external.file, storage.external.offset + b0, b1 - b0)
        : new Uint8Array(0);
    const first = realIndex(b0, p, rowBytes, perByte);
    const count = realIndex(b1, p, rowBytes, perByte) - first;
    if (count <= 0) continue;
    const out = into ? into(count) : buffer!.subarray(0, count);
    let o = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = b0 + i;
      const n = Math.floor(b / rowBytes);
      const k0 = (b % rowBytes) * perByte;
      for (let j = 0; j < perByte && k0 + j < p.k; j++) {
        const s = n * blocks + Math.floor((k0 + j) / p.blockSize);
        out[o++] = (((bytes[i] >> (j * p.bits)) & mask) - p.zeroPoint[s]) * p.scale[s];
      }
    }
    await each(out, first);
  }
}
