/** Whether two paths name one file: the same path, a symlink to it, or a hard link (same device and inode). */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function sameFile(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  // statSync follows symlinks, so a link to the file has the file's inode.
  const sa = fs.statSync(a, { throwIfNoEntry: false });
  const sb = fs.statSync(b, { throwIfNoEntry: false });
  return sa !== undefined && sb !== undefined && sa.dev === sb.dev && sa.ino === sb.ino;
}
