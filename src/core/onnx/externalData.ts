/**
 * External data: tensors whose bytes live in side files next to the model. A `location` must stay
 * inside the model's folder: absolute paths, `..` escapes and symlinks that lead out are refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OnnxError, formatCount } from '../errors';
import type { StringStringEntry } from './proto';

export interface ExternalLocation {
  /** The location string as written in the model. */
  readonly location: string;
  /** Absolute path of the side file, after the safety checks. */
  readonly file: string;
  readonly offset: number;
  /** Bytes of this tensor; undefined means "to the end of the file". */
  readonly length?: number;
}

function parseCount(value: string | undefined, key: string, where: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim())) throw new OnnxError('external-data', `${key} '${value}' is not a whole number`, where);
  const n = Number(value.trim());
  if (!Number.isSafeInteger(n)) throw new OnnxError('limit', `${key} ${value} is too large`, where);
  return n;
}

/** Parses and checks the external_data entries of a tensor; no file is read here. */
export function parseExternalData(
  entries: readonly StringStringEntry[],
  modelDir: string | undefined,
  where: string,
): ExternalLocation {
  const map = new Map<string, string>();
  for (const e of entries) {
    if (e.key === undefined) continue;
    // onnxruntime refuses a repeated key; taking either value would read other bytes than it does.
    if (map.has(e.key)) throw new OnnxError('external-data', `'${e.key}' is given ${entries.filter((x) => x.key === e.key).length} times`, where);
    map.set(e.key, e.value ?? '');
  }
  const location = map.get('location');
  if (!location) throw new OnnxError('external-data', 'external data has no location', where);
  if (modelDir === undefined) {
    throw new OnnxError('external-data', `refers to external file '${location}' but the model was not opened from a folder`, where);
  }
  const file = resolveInside(modelDir, location, where);
  return {
    location,
    file,
    offset: parseCount(map.get('offset'), 'offset', where) ?? 0,
    length: parseCount(map.get('length'), 'length', where),
  };
}

/** Resolves `location` against `dir`, refusing anything that ends up outside `dir`. */
export function resolveInside(dir: string, location: string, where: string): string {
  if (location.includes('\0')) throw new OnnxError('external-data', `location contains a NUL byte`, where);
  if (path.isAbsolute(location) || path.win32.isAbsolute(location)) {
    throw new OnnxError('external-data', `location '${location}' is absolute; it must be relative to the model's folder`, where);
  }
  const base = path.resolve(dir);
  const target = path.resolve(base, location);
  if (!isWithin(base, target)) {
    throw new OnnxError('external-data', `location '${location}' leaves the model's folder`, where);
  }
  // Symlinks: compare real paths when the file exists (a missing file is reported when read).
  let realTarget: string;
  try {
    realTarget = fs.realpathSync(target);
  } catch {
    return target;
  }
  if (!isWithin(fs.realpathSync(base), realTarget)) {
    throw new OnnxError('external-data', `location '${location}' leaves the model's folder through a symbolic link`, where);
  }
  return target;
}

function isWithin(base: string, target: string): boolean {
  const rel = path.relative(base, target);
  // `..w.bin` is a file in the folder; only `..` itself or `../…` leaves it.
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

/** Checks that the side file exists and holds [offset, offset + length); returns the length. */
export function checkExternalRange(ext: ExternalLocation, expectedBytes: number, where: string): number {
  let size: number;
  try {
    const st = fs.statSync(ext.file);
    if (!st.isFile()) throw new OnnxError('external-data', `external data '${ext.location}' is not a file`, where);
    size = st.size;
  } catch (e) {
    if (e instanceof OnnxError) throw e;
    throw new OnnxError('external-data', `external data file '${ext.location}' cannot be read (${(e as NodeJS.ErrnoException).code ?? e})`, where);
  }
  const length = ext.length ?? size - ext.offset;
  if (ext.offset + length > size) {
    throw new OnnxError(
      'external-data',
      `external data '${ext.location}' ends at byte ${formatCount(size)} but the tensor needs bytes ${formatCount(ext.offset)}..${formatCount(ext.offset + length)}`,
      where,
    );
  }
  if (length !== expectedBytes) {
    throw new OnnxError('shape-mismatch', `external data is ${formatCount(length)} bytes but dims say ${formatCount(expectedBytes)}`, where);
  }
  return length;
}

/** Reads `length` bytes at `position` of an external file (lazily, only when asked). */
export async function readExternalBytes(file: string, position: number, length: number): Promise<Uint8Array> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await handle.read(out, done, length - done, position + done);
      if (bytesRead === 0) throw new OnnxError('truncated', `external data file ended ${formatCount(length - done)} bytes early`, file);
      done += bytesRead;
    }
    return out;
  } finally {
    await handle.close();
  }
}
