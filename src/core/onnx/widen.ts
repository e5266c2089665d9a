/**
 * Widening stored tensor bytes (raw_data layout, little-endian) to Float32 for analysis.
 * Works on any element range, so callers can go chunk by chunk over big tensors.
 */
import { OnnxError } from '../errors';
import { DataType, dataTypeInfo, dataTypeName } from './dataTypes';
import { copyBytes } from '../bytes';

/** Decodes a small float format: `expBits`/`mantBits`/`bias`, with the format's special values. */
function minifloatTable(
  bitsTotal: number,
  expBits: number,
  mantBits: number,
  bias: number,
  special: (code: number, exp: number, mant: number) => number | undefined,
): Float32Array {
  const size = 1 << bitsTotal;
  const table = new Float32Array(size);
  for (let code = 0; code < size; code++) {
    const sign = code >> (bitsTotal - 1) ? -1 : 1;
    const exp = (code >> mantBits) & ((1 << expBits) - 1);
    const mant = code & ((1 << mantBits) - 1);
    const s = special(code, exp, mant);
    if (s !== undefined) {
      table[code] = s;
      continue;
    }
    const magnitude =
      exp === 0 ? 2 ** (1 - bias) * (mant / 2 ** mantBits) : 2 ** (exp - bias) * (1 + mant / 2 ** mantBits);
    table[code] = sign * magnitude;
  }
  return table;
}

const tables = new Map<number, Float32Array>();

function tableFor(dataType: number): Float32Array | undefined {
  let t = tables.get(dataType);
  if (t) return t;
  switch (dataType) {
    case DataType.Float16:
      t = minifloatTable(16, 5, 10, 15, (_c, e, m) => (e === 31 ? (m === 0 ? Infinity : NaN) : undefined));
      // the sign of infinities
      for (let c = 0x8000; c < 0x10000; c++) if (t[c] === Infinity) t[c] = -Infinity;
      break;
    case DataType.Float8E4M3FN:
      t = minifloatTable(8, 4, 3, 7, (_c, e, m) => (e === 15 && m === 7 ? NaN : undefined));
      break;
    case DataType.Float8E4M3FNUZ:
      t = minifloatTable(8, 4, 3, 8, (c) => (c === 0x80 ? NaN : undefined));
      break;
    case DataType.Float8E5M2:
      t = minifloatTable(8, 5, 2, 15, (c, e, m) => (e === 31 ? (m === 0 ? (c & 0x80 ? -Infinity : Infinity) : NaN) : undefined));
      break;
    case DataType.Float8E5M2FNUZ:
      t = minifloatTable(8, 5, 2, 16, (c) => (c === 0x80 ? NaN : undefined));
      break;
    case DataType.Float8E8M0:
      t = new Float32Array(256);
      for (let c = 0; c < 256; c++) t[c] = c === 0xff ? NaN : 2 ** (c - 127);
      break;
    case DataType.Float4E2M1:
      t = minifloatTable(4, 2, 1, 1, () => undefined);
      break;
    case DataType.Uint4:
      t = Float32Array.from({ length: 16 }, (_, c) => c);
      break;
    case DataType.Int4:
      t = Float32Array.from({ length: 16 }, (_, c) => (c >= 8 ? c - 16 : c));
      break;
    case DataType.Uint2:
      t = Float32Array.from({ length: 4 }, (_, c) => c);
      break;
    case DataType.Int2:
      t = Float32Array.from({ length: 4 }, (_, c) => (c >= 2 ? c - 4 : c));
      break;
    default:
      return undefined;
  }
  tables.set(dataType, t);
  return t;
}

/**
 * Widens `count` elements starting at element `first` of `raw` (the whole tensor's raw bytes, or
 * any slice that starts on an element boundary with `first` relative to it) into `out`.
 */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Elements [first, first + count) of little-endian 16-bit codes as a Uint16Array: a view when
 * they are 2-byte aligned (and the machine is little-endian), else an aligned copy. A typed array
 * read is several times faster than DataView.getUint16 per element.
 */
function codes16(raw: Uint8Array, first: number, count: number): Uint16Array {
  const start = raw.byteOffset + first * 2;
  if (LITTLE_ENDIAN && start % 2 === 0) return new Uint16Array(raw.buffer, start, count);
  const codes = new Uint16Array(count);
  if (LITTLE_ENDIAN) copyBytes(new Uint8Array(codes.buffer), raw.subarray(first * 2, (first + count) * 2));
  else {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < count; i++) codes[i] = view.getUint16((first + i) * 2, true);
  }
  return codes;
}

export function widenToFloat32(
  dataType: number,
  raw: Uint8Array,
  first: number,
  count: number,
  out: Float32Array = new Float32Array(count),
): Float32Array {
  const info = dataTypeInfo(dataType);
  if (!info || !info.numeric) {
    throw new OnnxError('unsupported', `${dataTypeName(dataType)} tensors have no real-valued view`);
  }
  const needed = Math.ceil(((first + count) * info.bits) / 8);
  if (needed > raw.length) {
    throw new OnnxError('shape-mismatch', `need ${needed} bytes for elements [${first}, ${first + count}) but have ${raw.length}`);
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  switch (dataType) {
    case DataType.Float: {
      // A byte copy: raw_data inside a file is rarely 4-byte aligned, and memcpy does not care.
      copyBytes(new Uint8Array(out.buffer, out.byteOffset, count * 4), raw.subarray(first * 4, (first + count) * 4));
      return out;
    }
    case DataType.Double:
      for (let i = 0; i < count; i++) out[i] = view.getFloat64((first + i) * 8, true);
      return out;
    case DataType.Uint8:
    case DataType.Bool:
      for (let i = 0; i < count; i++) out[i] = raw[first + i];
      return out;
    case DataType.Int8:
      for (let i = 0; i < count; i++) out[i] = (raw[first + i] << 24) >> 24;
      return out;
    case DataType.Uint16:
      for (let i = 0; i < count; i++) out[i] = view.getUint16((first + i) * 2, true);
      return out;
    case DataType.Int16:
      for (let i = 0; i < count; i++) out[i] = view.getInt16((first + i) * 2, true);
      return out;
    case DataType.Int32:
      for (let i = 0; i < count; i++) out[i] = view.getInt32((first + i) * 4, true);
      return out;
    case DataType.Uint32:
      for (let i = 0; i < count; i++) out[i] = view.getUint32((first + i) * 4, true);
      return out;
    case DataType.Int64:
      for (let i = 0; i < count; i++) {
        const at = (first + i) * 8;
        out[i] = view.getInt32(at + 4, true) * 4294967296 + view.getUint32(at, true);
      }
      return out;
    case DataType.Uint64:
      for (let i = 0; i < count; i++) {
        const at = (first + i) * 8;
        out[i] = view.getUint32(at + 4, true) * 4294967296 + view.getUint32(at, true);
      }
      return out;
    case DataType.BFloat16: {
      // The high half of a float32: written as bits through a view of the output.
      const codes = codes16(raw, first, count);
      const bits = new Uint32Array(out.buffer, out.byteOffset, count);
      for (let i = 0; i < count; i++) bits[i] = codes[i] << 16;
      return out;
    }
  }
  const table = tableFor(dataType)!;
  if (info.bits === 16) {
    const codes = codes16(raw, first, count);
    for (let i = 0; i < count; i++) out[i] = table[codes[i]];
  } else if (info.bits === 8) {
    for (let i = 0; i < count; i++) out[i] = table[raw[first + i]];
  } else {
    // Sub-byte types: element k sits in byte floor(k*bits/8), lowest bits first.
    const bits = info.bits;
    const mask = (1 << bits) - 1;
    const perByte = 8 / bits;
    for (let i = 0; i < count; i++) {
      const k = first + i;
      const code = (raw[Math.floor(k / perByte)] >> ((k % perByte) * bits)) & mask;
      out[i] = table[code];
    }
  }
  return out;
}
