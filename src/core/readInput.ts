/**
 * Reading a file the user named (data, labels, calibration arrays): every failure is a named
 * OnnxError that says what is wrong with the path, never a raw ENOENT or ENAMETOOLONG.
 */
import * as fs from 'node:fs';
import { OnnxError } from './errors';

const REASONS: Record<string, string> = {
  ENOENT: 'does not exist',
  ENOTDIR: 'does not exist (a part of its path is a file, not a folder)',
  ENAMETOOLONG: 'is not a usable path: a name in it is too long',
  EACCES: 'cannot be read: permission denied',
  EISDIR: 'is a folder, not a file',
  ELOOP: 'is not a usable path: too many symbolic links',
};

function reason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return (code && REASONS[code]) ?? `cannot be read (${code ?? String(e)})`;
}

/** Whether `file` is a folder; false for anything that cannot be stat'ed (the read then names why). */
export function isFolder(file: string): boolean {
  try {
    return fs.statSync(file, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/** Whether `file` exists as a file; unusable paths count as missing. */
export function isFile(file: string): boolean {
  try {
    return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch {
    return false;
  }
}

/** The bytes of a regular file. */
export function readInputFile(file: string): Uint8Array {
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new OnnxError('io', st.isDirectory() ? REASONS.EISDIR : 'is not a regular file', file);
    return fs.readFileSync(file);
  } catch (e) {
    if (e instanceof OnnxError) throw e;
    throw new OnnxError('io', reason(e), file);
  }
}
