/**
 * Reading NumPy arrays: `.npy` (format versions 1–3) and `.npz` (a zip of `.npy` files, stored or
 * deflated). Little-endian numeric types only; everything else is a clear error. Used for
 * calibration and evaluation data.
 */
import { constants as zlibConstants, inflateRawSync } from 'node:zlib';
import { OnnxError, formatCount } from './errors';

export type NpyDType = 'float32' | 'float64' | 'float16' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool';

export interface NpyArray {
  readonly dtype: NpyDType;
  readonly shape: readonly number[];
  /** The raw little-endian element bytes (a view, not a copy). */
  readonly data: Uint8Array;
}

const DESCR: Record<string, [NpyDType, number]> = {
  '<f4': ['float32', 4], '<f8': ['float64', 8], '<f2': ['float16', 2], '|i1': ['int8', 1], '|u1': ['uint8', 1],
  '<i2': ['int16', 2], '<u2': ['uint16', 2], '<i4': ['int32', 4], '<u4': ['uint32', 4], '<i8': ['int64', 8], '<u8': ['uint64', 8], '|b1': ['bool', 1],
};

/** Headers longer than this are not NumPy's (it writes a few hundred bytes). */
const MAX_HEADER_BYTES = 1 << 20;

interface NpyHeader {
  readonly dtype: NpyDType;
  readonly shape: readonly number[];
  /** Where the element bytes start and how many the shape needs. */
  readonly dataStart: number;
  readonly need: number;
}

/** Reads the header only: `bytes` need not hold the data. */
function parseNpyHeader(bytes: Uint8Array, where: string): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((m, i) => bytes[i] !== m)) throw new OnnxError('corrupt', 'is not a .npy array (no \\x93NUMPY header)', where);
  const major = bytes[6];
  if (major < 1 || major > 3) throw new OnnxError('unsupported', `is .npy format version ${major}; versions 1 to 3 are read`, where);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (major > 1 && bytes.length < 12) throw new OnnxError('truncated', 'its header runs past the end', where);
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (headerLength > MAX_HEADER_BYTES) throw new OnnxError('limit', `has a ${formatCount(headerLength)}-byte header; NumPy writes a few hundred`, where);
  if (start + headerLength > bytes.length) throw new OnnxError('truncated', 'its header runs past the end', where);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLength));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new OnnxError('corrupt', `has an unreadable header: ${header.trim()}`, where);
  const type = DESCR[descr.replace('=', '<')];
  if (!type) throw new OnnxError('unsupported', `has dtype ${descr}; little-endian numeric arrays only`, where);
  if (fortran === 'True') throw new OnnxError('unsupported', 'is in Fortran order; save it with numpy.ascontiguousarray', where);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new OnnxError('corrupt', `has shape (${shapeText})`, where);
  const elements = shape.reduce((a, b) => a * b, 1);
  return { dtype: type[0], shape, dataStart: start + headerLength, need: elements * type[1] };
}

export function parseNpy(bytes: Uint8Array, where = 'npy'): NpyArray {
  const { dtype, shape, dataStart, need } = parseNpyHeader(bytes, where);
  if (dataStart + need > bytes.length) throw new OnnxError('truncated', `holds ${formatCount(bytes.length - dataStart)} data bytes, its shape needs ${formatCount(need)}`, where);
  return { dtype, shape, data: bytes.subarray(dataStart, dataStart + need) };
}

interface NpzMember {
  readonly name: string;
  readonly method: number;
  readonly raw: Uint8Array;
  /** The uncompressed size the zip directory declares. */
  readonly size: number;
}

/**
 * The `.npy` members of an `.npz` file by array name (the member name without `.npy`). Members
 * are inflated only when asked for, and never past the size the zip declares for them: an unused
 * member costs nothing, a zip bomb is refused by name.
 */
export class NpzArchive implements ReadonlyMap<string, NpyArray> {
  private readonly inflated = new Map<string, NpyArray>();

  constructor(
    private readonly members: ReadonlyMap<string, NpzMember>,
    private readonly where: string,
  ) {}

  get size(): number {
    return this.members.size;
  }

  has(name: string): boolean {
    return this.members.has(name);
  }

  get(name: string): NpyArray | undefined {
    const member = this.members.get(name);
    if (!member) return undefined;
    let array = this.inflated.get(name);
    if (!array) this.inflated.set(name, (array = parseNpy(inflateMember(member, this.where), `${this.where}:${member.name}`)));
    return array;
  }

  keys(): MapIterator<string> {
    return this.members.keys();
  }

  *entries(): MapIterator<[string, NpyArray]> {
    for (const name of this.members.keys()) yield [name, this.get(name)!];
  }

  *values(): MapIterator<NpyArray> {
    for (const name of this.members.keys()) yield this.get(name)!;
  }

  [Symbol.iterator](): MapIterator<[string, NpyArray]> {
    return this.entries();
  }

  forEach(fn: (value: NpyArray, key: string, map: ReadonlyMap<string, NpyArray>) => void): void {
    for (const [k, v] of this.entries()) fn(v, k, this);
  }
}

function inflateMember(m: NpzMember, where: string): Uint8Array {
  if (m.method === 0) return m.raw;
  if (m.method !== 8) throw new OnnxError('unsupported', `member '${m.name}' uses zip method ${m.method}`, where);
  // The array's own header bounds what is worth inflating: deflate expands at most ~1,032×, so
  // the first 256 compressed bytes give the header without inflating a bomb.
  let limit = Math.max(1, m.size);
  const head = inflatePrefix(m.raw.subarray(0, 256));
  if (head) {
    const h = parseNpyHeader(head, `${where}:${m.name}`);
    limit = Math.min(limit, h.dataStart + h.need);
  }
  try {
    return inflateRawSync(m.raw, { maxOutputLength: Math.max(1, limit) });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new OnnxError('corrupt', `member '${m.name}' inflates past the ${formatCount(limit)} bytes its zip entry and array header declare`, where);
    }
    throw new OnnxError('corrupt', `member '${m.name}' does not inflate (${(e as Error).message})`, where);
  }
}

/** What a prefix of a deflate stream inflates to, if it holds a whole .npy header; else undefined. */
function inflatePrefix(prefix: Uint8Array): Uint8Array | undefined {
  try {
    const out = inflateRawSync(prefix, { finishFlush: zlibConstants.Z_SYNC_FLUSH });
    if (out.length < 12) return undefined;
    const headerEnd = (out[6] === 1 ? 10 + (out[8] | (out[9] << 8)) : 12 + new DataView(out.buffer, out.byteOffset).getUint32(8, true));
    return out.length >= headerEnd ? out : undefined;
  } catch {
    return undefined; // the full inflate reports a broken stream
  }
}

export function parseNpz(bytes: Uint8Array, where = 'npz'): NpzArchive {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // End of central directory: the last 0x06054b50 within the final 64 KiB.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 65557); i--) {
    if (view.getUint32(i, true) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new OnnxError('corrupt', 'is not a zip (.npz) file', where);
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const members = new Map<string, NpzMember>();
  for (let e = 0; e < count; e++) {
    if (at + 46 > bytes.length || view.getUint32(at, true) !== 0x02014b50) throw new OnnxError('corrupt', 'has a broken zip directory', where);
    const method = view.getUint16(at + 10, true);
    const compressed = view.getUint32(at + 20, true);
    const size = view.getUint32(at + 24, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const local = view.getUint32(at + 42, true);
    if (at + 46 + nameLength > bytes.length) throw new OnnxError('truncated', 'its zip directory runs past the end', where);
    const name = new TextDecoder().decode(bytes.subarray(at + 46, at + 46 + nameLength));
    at += 46 + nameLength + extraLength + commentLength;
    if (compressed === 0xffffffff || size === 0xffffffff) throw new OnnxError('unsupported', `member '${name}' needs zip64`, where);
    if (local + 30 > bytes.length) throw new OnnxError('truncated', `member '${name}' lies past the end`, where);
    const dataStart = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
    if (dataStart + compressed > bytes.length) throw new OnnxError('truncated', `member '${name}' runs past the end`, where);
    if (!name.endsWith('.npy')) continue;
    const key = name.slice(0, -4);
    if (members.has(key)) throw new OnnxError('corrupt', `holds two members named '${name}'`, where);
    members.set(key, { name, method, raw: bytes.subarray(dataStart, dataStart + compressed), size: method === 0 ? compressed : size });
  }
  return new NpzArchive(members, where);
}

/** The array's values widened to Float32 (for model inputs and statistics). */
export function npyToFloat32(a: NpyArray): Float32Array {
  const n = a.shape.reduce((x, y) => x * y, 1);
  // Little-endian float32 is the common case: one aligned copy (typed arrays are little-endian here).
  if (a.dtype === 'float32') return new Float32Array(new Uint8Array(a.data.subarray(0, n * 4)).buffer);
  const v = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    switch (a.dtype) {
      case 'float64': out[i] = v.getFloat64(i * 8, true); break;
      case 'float16': out[i] = halfToFloat(v.getUint16(i * 2, true)); break;
      case 'int8': out[i] = v.getInt8(i); break;
      case 'uint8': case 'bool': out[i] = v.getUint8(i); break;
      case 'int16': out[i] = v.getInt16(i * 2, true); break;
      case 'uint16': out[i] = v.getUint16(i * 2, true); break;
      case 'int32': out[i] = v.getInt32(i * 4, true); break;
      case 'uint32': out[i] = v.getUint32(i * 4, true); break;
      case 'int64': out[i] = Number(v.getBigInt64(i * 8, true)); break;
      case 'uint64': out[i] = Number(v.getBigUint64(i * 8, true)); break;
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (mant / 1024);
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + mant / 1024);
}
