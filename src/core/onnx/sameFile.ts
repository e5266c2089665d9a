/**
 * Whether a path names a file a model reads (the model itself or one of its external data files),
 * so that no save and no report ever writes over its own input.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mapTensors } from './mapTensors';
import { parseExternalData } from './externalData';
import { EXTERNAL_DATA, type ModelProto } from './proto';

/** Whether two paths name one file: the same path, a symlink to it, or a hard link (same device and inode). */
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

/** The external data files a model reads (absolute paths, each once). */
export function dataFilesOf(proto: ModelProto, dir: string | undefined): string[] {
  const files = new Set<string>();
  mapTensors(proto, (t) => {
    if (t.dataLocation !== EXTERNAL_DATA || dir === undefined) return t;
    try {
      files.add(parseExternalData(t.externalData, dir, t.name ?? 'tensor').file);
    } catch {
      // a location that cannot be resolved names no file here; reading the tensor reports it
    }
    return t;
  });
  return [...files];
}

/** A model as far as its files go: where it was read from and what it refers to. */
export interface ModelFiles {
  readonly file?: string;
  readonly proto: ModelProto;
  readonly dir?: string;
}

/**
 * Which of `model`'s files `output` is, said for a message ("the input model", "model.onnx.data,
 * the input model's external data"), or undefined when it is none of them.
 */
export function inputFileAt(output: string, model: ModelFiles, name = 'the input model'): string | undefined {
  if (model.file !== undefined && sameFile(output, model.file)) return name;
  const data = dataFilesOf(model.proto, model.dir).find((f) => sameFile(output, f));
  return data === undefined ? undefined : `${path.basename(data)}, ${name}'s external data`;
}

/** Models up to this size are looked into for a side file's name; a bigger one may read it, unseen. */
const READER_SCAN_BYTES = 64 * 1024 * 1024;

/** A name another model's file may have: `.onnx` anywhere in it (model.onnx.bak, Model.ONNX~), not a side file's. */
const MODEL_LIKE = /\.onnx/i;
const SIDE_FILE_LIKE = /(\.|_)data$|\.tmp|\.bin$/i;

/**
 * Why each of `files` must stay although the model saved as `model` no longer reads it, or no
 * entry when nothing else can read it: another model's file in the folder names it (a copy of the
 * old model, `model.onnx.bak`), one too big to look into is there, or a symbolic link in the folder
 * leads to it. The folder is listed and each other model read once, for all the files together.
 */
export function otherReaders(files: readonly string[], model: string): Map<string, string> {
  const out = new Map<string, string>();
  if (files.length === 0) return out;
  const dir = path.dirname(model);
  const all = (reason: string): Map<string, string> => new Map(files.map((f) => [f, reason]));
  let entries: string[];
  try {
    entries = fs.readdirSync(dir);
  } catch {
    return all('its folder cannot be listed');
  }
  const names = files.map((f) => Buffer.from(path.basename(f)));
  for (const entry of entries) {
    const other = path.join(dir, entry);
    if (files.includes(other) || sameFile(other, model)) continue;
    // a link in the folder that leads to one of the files is a name someone may use
    let link: fs.Stats | undefined;
    try {
      link = fs.lstatSync(other).isSymbolicLink() ? fs.statSync(other) : undefined;
    } catch {
      link = undefined;
    }
    if (link) files.forEach((f) => statOrNone(f)?.ino === link!.ino && statOrNone(f)?.dev === link!.dev && !out.has(f) && out.set(f, `${entry} is a symbolic link to it`));
    if (!MODEL_LIKE.test(entry) || SIDE_FILE_LIKE.test(entry)) continue;
    const size = statOrNone(other)?.size ?? 0;
    if (size > READER_SCAN_BYTES) return all(`${entry} (too big to look into) may read it`);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(other);
    } catch {
      return all(`${entry} cannot be read to tell whether it reads it`);
    }
    files.forEach((f, i) => !out.has(f) && bytes.includes(names[i]) && out.set(f, `${entry} reads it`));
  }
  return out;
}
