/**
 * Getting at a tensor's values, only when asked: its bytes in raw_data layout (a view when they
 * are stored that way, decoded from typed fields or read from a side file otherwise), and
 * chunked Float32 views for analysis that never hold more than one chunk of a big tensor.
 */
import { OnnxError } from '../errors';
import { concatBytes } from '../bytes';
import { WireReader } from '../protobuf/wire';
import { DataType, dataTypeInfo, dataTypeName, rawByteLength } from './dataTypes';
import { readExternalBytes } from './externalData';
import type { TensorInfo } from './tensor';
import { widenToFloat32 } from './widen';

/** The tensor's data in raw_data layout (little-endian, sub-byte types packed). */
export async function readRawBytes(t: TensorInfo): Promise<Uint8Array> {
  const s = t.storage;
  if (s.kind === 'external') return readExternalBytes(s.external.file, s.external.offset, t.bytes);
  return readRawBytesSync(t)!;
}

/** Like readRawBytes for data inside the model file; undefined for external data. */
export function readRawBytesSync(t: TensorInfo): Uint8Array | undefined {
  const s = t.storage;
  switch (s.kind) {
    case 'raw':
      return s.bytes;
    case 'external':
      return undefined;
    case 'empty':
      return new Uint8Array(0);
    case 'typed':
      return typedToRaw(t.dataType, t.elements, s.field, s.runs);
    case 'values':
      return valuesToRaw(t.dataType, s.values);
    case 'strings':
      throw new OnnxError('unsupported', 'STRING tensors have no raw byte layout');
    case 'sparse':
      throw new OnnxError('unsupported', 'sparse tensors are read through readDenseFloat32');
  }
}

function* varints(runs: readonly Uint8Array[]): Generator<number | bigint> {
  for (const r of runs) {
    const reader = new WireReader(r, 0, r.length, () => 'typed tensor data');
    while (!reader.done) yield reader.varint();
  }
}

function typedToRaw(dataType: number, elements: number, field: string, runs: readonly Uint8Array[]): Uint8Array {
  if (field === 'floatData' || field === 'doubleData') return concatBytes(runs);
  const out = new Uint8Array(rawByteLength(dataType, elements));
  const view = new DataView(out.buffer);
  const width = (dataTypeInfo(dataType)?.bits ?? 8) / 8;
  let i = 0;
  for (const v of varints(runs)) {
    if (field === 'int64Data' || (field === 'uint64Data' && width === 8)) {
      view.setBigUint64(i * 8, BigInt.asUintN(64, BigInt(v)), true);
    } else {
      // int32_data and uint64_data for UINT32: keep the low bits the element's width holds.
      const low = typeof v === 'bigint' ? Number(BigInt.asUintN(32, v)) : v >>> 0;
      if (width >= 4) view.setUint32(i * 4, low, true);
      else if (width === 2) view.setUint16(i * 2, low & 0xffff, true);
      else out[i] = low & 0xff; // one byte per entry; sub-byte types pack a whole byte per entry
    }
    i++;
  }
  return out;
}

function valuesToRaw(dataType: number, values: readonly (number | bigint)[]): Uint8Array {
  if (dataType === DataType.Float) return new Uint8Array(Float32Array.from(values as number[]).buffer);
  if (dataType === DataType.Int64) return new Uint8Array(BigInt64Array.from(values, (v) => BigInt(v)).buffer);
  throw new OnnxError('unsupported', `attribute values of ${dataTypeName(dataType)}`);
}

/** Elements [first, first + count) of a tensor's raw bytes as float32, or undefined for widenToFloat32 to do it. */
export type ChunkWidener = (dataType: number, raw: Uint8Array, first: number, count: number) => Float32Array | undefined;

/**
 * Calls `each` with consecutive Float32 chunks of at most `chunkElements` values, reading side
 * files chunk by chunk, so a huge tensor is never held widened in full.
 */
export async function forEachFloat32Chunk(
  t: TensorInfo,
  chunkElements: number,
  each: (values: Float32Array, firstElement: number) => void | Promise<void>,
  /** Where to widen each chunk (e.g. WebAssembly memory); by default one buffer reused per chunk. */
  into?: (count: number) => Float32Array,
  /** Widens a chunk itself (a WebAssembly kernel), or returns undefined to leave it to widenToFloat32. */
  widen?: ChunkWidener,
): Promise<void> {
  const bits = dataTypeInfo(t.dataType)?.bits ?? 0;
  // Keep chunks on byte boundaries for sub-byte types.
  const step = Math.max(8, Math.floor(chunkElements / 8) * 8);
  if (t.storage.kind === 'sparse') {
    const dense = await readDenseFloat32(t);
    if (into) {
      const target = into(dense.length);
      target.set(dense);
      await each(target, 0);
    } else await each(dense, 0);
    return;
  }
  if (t.storage.kind === 'external') {
    const { file, offset } = t.storage.external;
    for (let first = 0; first < t.elements; first += step) {
      const count = Math.min(step, t.elements - first);
      const byteStart = (first * bits) / 8;
      const bytes = await readExternalBytes(file, offset + byteStart, rawByteLength(t.dataType, count));
      await each(widen?.(t.dataType, bytes, 0, count) ?? widenToFloat32(t.dataType, bytes, 0, count, into?.(count)), first);
    }
    return;
  }
  const raw = await readRawBytes(t);
  const buffer = into ? null : new Float32Array(Math.min(step, t.elements));
  for (let first = 0; first < t.elements; first += step) {
    const count = Math.min(step, t.elements - first);
    await each(widen?.(t.dataType, raw, first, count) ?? widenToFloat32(t.dataType, raw, first, count, buffer ? buffer.subarray(0, count) : into!(count)), first);
  }
}

const MAX_DENSE_ELEMENTS = 2 ** 30;

/** A whole tensor widened to Float32 (sparse tensors densified). For small tensors and tests. */
export async function readDenseFloat32(t: TensorInfo): Promise<Float32Array> {
  return readDenseFloat32Into(t, undefined);
}

/** readDenseFloat32 into `into` (t.elements long) when given; a sparse tensor's values always in a new array. */
export async function readDenseFloat32Into(t: TensorInfo, into: Float32Array | undefined): Promise<Float32Array> {
  // In the file: widened straight into the result (chunks would copy every value twice).
  if (t.storage.kind !== 'sparse' && t.storage.kind !== 'external') return widenToFloat32(t.dataType, readRawBytesSync(t)!, 0, t.elements, into);
  if (t.storage.kind !== 'sparse') {
    const out = into ?? new Float32Array(t.elements);
    await forEachFloat32Chunk(t, 1 << 20, (v, first) => out.set(v, first));
    return out;
  }
  const { values, indices } = t.storage;
  const denseElements = t.dims.reduce((a, b) => a * b, 1);
  if (denseElements > MAX_DENSE_ELEMENTS) {
    throw new OnnxError('limit', `densifying dims [${t.dims.join(', ')}] would need ${denseElements} elements`);
  }
  const dense = new Float32Array(denseElements);
  const vals = await readDenseFloat32(values);
  const idx = widenToFloat32(DataType.Int64, await readRawBytes(indices), 0, indices.elements);
  const rank = t.dims.length;
  const coordinate = indices.dims.length === 2;
  for (let k = 0; k < values.elements; k++) {
    let flat = 0;
    if (coordinate) for (let d = 0; d < rank; d++) flat = flat * t.dims[d] + idx[k * rank + d];
    else flat = idx[k];
    if (!(flat >= 0 && flat < dense.length)) throw new OnnxError('shape-mismatch', `sparse index ${flat} is outside dims [${t.dims.join(', ')}]`);
    dense[flat] = vals[k];
  }
  return dense;
}
