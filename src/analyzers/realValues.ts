/**
 * A stored tensor's real values, chunk by chunk: as stored, or decoded by its dequantizer
 * (codes × scale, MatMulNBits blocks, codebook look-ups, masked non-zeros placed). Statistics, estimates and the low-rank
 * figures all read weights through here, so they describe what the model computes with.
 */
import type { TensorInfo } from '../core/onnx/tensor';
import { forEachFloat32Chunk, readDenseFloat32, type ChunkWidener } from '../core/onnx/tensorData';
import { dequantizeChunk, lookUpChunk, type DequantizeParams } from './dequantize';
import { forEachNBitsChunk } from './nbits';
import { forEachMaskedChunk } from './maskedValues';

/** The shape of the real values: the stored dims, except MatMulNBits' [N, K] and a masked weight's dense shape. */
export function realDims(t: TensorInfo, p: DequantizeParams | undefined): readonly number[] {
  return p?.kind === 'nbits' ? [p.n, p.k] : p?.kind === 'masked' ? p.dims : t.dims;
}

export function realElements(t: TensorInfo, p: DequantizeParams | undefined): number {
  return p?.kind === 'nbits' ? p.n * p.k : p?.kind === 'masked' ? p.dims.reduce((a, b) => a * b, 1) : t.elements;
}

/** Calls `each` with consecutive chunks of the real values (written into `into(count)` when given). */
export function forEachRealChunk(
  t: TensorInfo,
  p: DequantizeParams | undefined,
  chunkElements: number,
  each: (values: Float32Array, firstElement: number) => void | Promise<void>,
  into?: (count: number) => Float32Array,
  /** Widens stored chunks itself where it can (see forEachFloat32Chunk). */
  widen?: ChunkWidener,
): Promise<void> {
  switch (p?.kind) {
    case undefined:
      return forEachFloat32Chunk(t, chunkElements, each, into, widen);
    case 'linear':
      return forEachFloat32Chunk(t, chunkElements, (v, first) => (dequantizeChunk(v, first, t.dims, p), each(v, first)), into, widen);
    case 'codebook':
      return forEachFloat32Chunk(t, chunkElements, (v, first) => (lookUpChunk(v, p.codebook), each(v, first)), into, widen);
    case 'nbits':
      return forEachNBitsChunk(t, p, chunkElements, each, into);
    case 'masked':
      return forEachMaskedChunk(p, chunkElements, each, into);
  }
}

/** All real values at once (the low-rank estimate reads the main weight whole). */
export async function readRealFloat32(t: TensorInfo, p: DequantizeParams | undefined): Promise<Float32Array> {
  if (!p) return readDenseFloat32(t); // sparse tensors densified
  const out = new Float32Array(realElements(t, p));
  await forEachRealChunk(t, p, 1 << 20, (v, first) => out.set(v, first));
  return out;
}
