/** Whether two paths name one file: the same path, a symlink to it, or a hard link (same device and inode). */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  // statSync follows symlinks, so a link to the file has the file's inode.
  const sa = statOrNone(a);
  const sb = statOrNone(b);
  return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino;
}

/** A path that cannot be stat'ed (missing, ENOTDIR, EACCES) is no file here: the read or write names the problem. */
function statOrNone(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file, { throwIfNoEntry: false });
  } catch {
    return undefined;
  }
}
