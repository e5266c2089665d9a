/**
 * The files a save writes besides the model: temp files named so a later run can tell they are
 * ours and whether their writer is still alive, and side-file names that never replace a data
 * file the model on disk may still be reading (a kill between two renames then cannot tear the pair).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OnnxError } from '../errors';

const TEMP = /^\.onnx-compress-(\d+)-[0-9a-z]+\..*\.tmp$/;

/** A temp file beside `final`: `.onnx-compress-<pid>-<random>.<name>.tmp`. */
export function tempPath(final: string): string {
  const random = Math.random().toString(36).slice(2, 10);
  return path.join(path.dirname(final), `.onnx-compress-${process.pid}-${random}.${path.basename(final)}.tmp`);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes temp files in `dir` left by saves whose process is gone (killed mid-save). */
export async function removeDeadTemps(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return; // a folder we cannot list: the save itself reports the real problem
  }
  for (const name of names) {
    const pid = Number(TEMP.exec(name)?.[1] ?? NaN);
    if (!Number.isSafeInteger(pid) || pid === process.pid || processAlive(pid)) continue;
    await fs.promises.rm(path.join(dir, name), { force: true });
  }
}

/**
 * A data file's name and its numbered variants: `model.onnx.data`, `model.onnx.1.data`, …
 * (`weights` → `weights.1`). A save writes the first variant that does not exist yet.
 */
export class SideFileFamily {
  private readonly stem: string;
  private readonly ext: string;

  constructor(
    private readonly dir: string,
    readonly location: string,
  ) {
    const ext = path.posix.extname(location);
    this.ext = ext;
    this.stem = location.slice(0, location.length - ext.length);
  }

  variant(n: number): string {
    return n === 0 ? this.location : `${this.stem}.${n}${this.ext}`;
  }

  /** Whether an absolute path is one of the family (in the family's folder). */
  has(file: string): boolean {
    const rel = path.relative(this.dir, file).split(path.sep).join('/');
    if (rel === this.location) return true;
    if (!rel.startsWith(`${this.stem}.`) || !rel.endsWith(this.ext)) return false;
    return /^\d+$/.test(rel.slice(this.stem.length + 1, rel.length - this.ext.length));
  }

  /** The first variant (location relative to the folder) with no file on disk. */
  freeLocation(): string {
    for (let n = 0; n < 1000; n++) {
      const location = this.variant(n);
      if (!fs.existsSync(path.join(this.dir, location))) return location;
    }
    throw new OnnxError('io', `no free name for the side file: ${this.variant(1)} … ${this.variant(999)} all exist`, path.join(this.dir, this.location));
  }

  /** Existing members of the family (absolute paths). */
  members(): string[] {
    const folder = path.dirname(path.join(this.dir, this.location));
    let names: string[];
    try {
      names = fs.readdirSync(folder);
    } catch {
      return [];
    }
    return names.map((n) => path.join(folder, n)).filter((f) => this.has(f));
  }
}

/**
 * Checks what a save would replace: a device, FIFO, socket or folder is refused; a symbolic link
 * is followed, so the link stays and its target gets the new model. Returns the path to write
 * and the permission bits to keep (undefined for a new file).
 */
export function saveTarget(file: string): { file: string; mode?: number } {
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(file, { throwIfNoEntry: false });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new OnnxError('io', `cannot be written: a part of its folder path is a file, not a folder; nothing written`, file);
    throw new OnnxError('io', `cannot be checked before saving (${code ?? String(e)}); nothing written`, file);
  }
  if (st === undefined) {
    // A missing folder is named as such, not as the temp file's ENOENT.
    const dir = path.dirname(file);
    if (!fs.existsSync(dir)) throw new OnnxError('io', `cannot be written: its folder ${dir} does not exist; nothing written`, file);
    return { file };
  }
  if (st.isSymbolicLink()) {
    let real: string;
    try {
      real = fs.realpathSync(file);
    } catch (e) {
      throw new OnnxError('io', `is a symbolic link that cannot be followed (${(e as NodeJS.ErrnoException).code ?? String(e)}); nothing written`, file);
    }
    return saveTarget(real);
  }
  if (!st.isFile()) {
    const kind = st.isDirectory() ? 'a folder' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device';
    throw new OnnxError('io', `is ${kind}, not a regular file; nothing written`, file);
  }
  return { file, mode: st.mode & 0o7777 };
}

/** The one-line reason a save failed, saying whether a file was there to keep (`existed`). */
export function saveFailed(e: unknown, file: string, existed: boolean): OnnxError {
  if (e instanceof OnnxError) return e;
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'EACCES' || code === 'EPERM' ? `${code}: no permission to write in ${path.dirname(file)}` : (code ?? String(e));
  return new OnnxError('io', `saving failed (${why}); ${existed ? 'the existing file is unchanged' : 'nothing written'}`, file);
}

/** Writes a text file (a report, a plan) as a model is saved: the target checked, a temp file renamed over it. */
export async function saveText(file: string, text: string): Promise<void> {
  const target = saveTarget(path.resolve(file));
  const temp = tempPath(target.file);
  try {
    await fs.promises.writeFile(temp, text, { flag: 'wx' });
    if (target.mode !== undefined) await fs.promises.chmod(temp, target.mode);
    await fs.promises.rename(temp, target.file);
  } catch (e) {
    await fs.promises.rm(temp, { force: true });
    throw saveFailed(e, target.file, target.mode !== undefined);
  }
}
