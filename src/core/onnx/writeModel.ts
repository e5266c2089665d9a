/**
 * Saving a model. An unedited model is written back byte for byte; an edited one re-encodes only
 * the messages on the path to each edit. A saved model is self-contained: external data is kept
 * where it is only when saving over the model it came from (`Source.file`), or for a temporary
 * model that asks for it (`shareSideFiles`); otherwise it is copied into the destination's own
 * side file, so deleting or replacing one model never breaks another. Big tensors move to the
 * side file when the model would pass the 2 GiB protobuf limit. No save writes over a file the
 * source reads, nor removes one unless it replaces the source's own model. Everything is written to temp files that are renamed into
 * place only once complete, so a failed save never harms the existing files. A new side file gets
 * a name no file has yet (`model.onnx.data`, then `model.onnx.1.data`, …) and the model is renamed
 * last, so a save killed at any point leaves the old pair or the new one. After that, the files of
 * that family (`model.onnx.data`, `model.onnx.N.data`) the new model does not read are removed:
 * they belong to the file just replaced, or to a save that was killed.
 *
 * After a save that rewrote a side file the source model's external references may point at
 * moved bytes: reopen the saved file rather than keep using the old index.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OnnxError, formatCount } from '../errors';
import { encodeMessage } from '../protobuf/encode';
import { ModelSchema } from './schema';
import { mapTensors } from './mapTensors';
import { parseExternalData, resolveInside } from './externalData';
import { describeTensor, type TensorInfo } from './tensor';
import { readRawBytes } from './tensorData';
import { DataType } from './dataTypes';
import { SideFileFamily, removeDeadTemps, saveFailed, saveTarget, tempPath } from './saveFiles';
import { MAX_PROTOBUF_BYTES } from './model';
import { dataFilesOf, inputFileAt, otherReaders, sameFile } from './sameFile';
import { EXTERNAL_DATA, type ModelProto, type TensorProto } from './proto';

export interface SaveOptions {
  /**
   * 'auto' (the default): tensors the source keeps in external data stay external (copied into
   * this save's side file, unless saving in place); the others stay inline unless the model would
   * pass the protobuf limit. 'always': every tensor of `threshold` bytes or more goes external.
   */
  readonly externalData?: 'auto' | 'always' | 'never';
  /** Side file for external data, relative to the destination folder. Default `<model file>.data`. */
  readonly dataFile?: string;
  /** Inline tensors of at least this many bytes move to the side file when externalizing. Default 1024. */
  readonly threshold?: number;
  /** The protobuf size limit (a parameter so tests can exercise it without writing 2 GiB). */
  readonly maxProtobufBytes?: number;
  /** Offsets of tensors of at least this size in the side file are multiples of it (mmap-friendly). Default 4096. */
  readonly alignment?: number;
  /**
   * Keep tensors in side files of the destination's folder where they are, even when saving to
   * another file: only for temporary models deleted before their source (tempModel.ts).
   */
  readonly shareSideFiles?: boolean;
  /**
   * Saving over its own model, free the disk an edit freed: `previousDataFiles`, the side files
   * the model on disk reads (in its folder, whatever their names), are removed once the saved
   * model and nothing else may read them, and one at least a quarter of whose bytes nothing reads
   * any more is rewritten with what is still read. Without it a save over its model removes no
   * side file: the editor's undo reads earlier states' tensors from them.
   */
  readonly compact?: { readonly previousDataFiles: readonly string[] };
}

export interface SaveResult {
  readonly file: string;
  readonly bytes: number;
  /** The side file written, if any (absolute path). */
  readonly dataFile?: string;
  /** The side file's size: its tensors' bytes and the padding that aligns them. */
  readonly dataBytes: number;
  /** The bytes of the tensors in the side file (what `externalBytes` of the saved model counts). */
  readonly dataTensorBytes: number;
  /** Tensors written to the side file. */
  readonly externalTensors: number;
  /** Bytes the saved model still reads from side files that were already there (saving in place). */
  readonly keptDataBytes: number;
  /** Those side files (absolute paths). */
  readonly keptDataFiles: readonly string[];
  /** Earlier side files the saved model no longer reads that stay, and why (another model may read one). */
  readonly leftDataFiles: readonly { readonly file: string; readonly reason: string }[];
}

interface Source {
  readonly proto: ModelProto;
  /** Folder external-data locations in `proto` are relative to. */
  readonly dir?: string;
  /** The model file `proto` was read from: saving over it keeps its side files where they are. */
  readonly file?: string;
}

interface PendingData {
  readonly offset: number;
  readonly length: number;
  readonly read: () => Promise<Uint8Array>;
}

export async function saveModel(source: Source, destination: string, options: SaveOptions = {}): Promise<SaveResult> {
  const target = saveTarget(path.resolve(destination));
  const file = target.file;
  const destDir = path.dirname(file);
  const family = new SideFileFamily(destDir, options.dataFile ?? `${path.basename(file)}.data`);
  resolveInside(destDir, family.location, 'save');
  await removeDeadTemps(destDir);
  // A fresh name: the data file the model on disk reads stays until the new model is in place.
  const location = family.freeLocation();
  const dataPath = resolveInside(destDir, location, 'save');
  if (path.dirname(dataPath) !== destDir) await removeDeadTemps(path.dirname(dataPath));
  const maxBytes = options.maxProtobufBytes ?? MAX_PROTOBUF_BYTES;
  const threshold = options.threshold ?? 1024;
  const alignment = options.alignment ?? 4096;
  const sameDir = source.dir !== undefined && path.resolve(source.dir) === destDir;
  const inPlace = source.file !== undefined && sameFile(source.file, file);
  const hit = inputFileAt(file, { proto: source.proto, dir: source.dir }, 'the model being saved');
  // Another name for the model being replaced keeps the old model, and its side files with it.
  const before = fs.statSync(file, { throwIfNoEntry: false });
  const linksBefore = before?.nlink ?? 0;
  const modelTime = before?.mtimeMs ?? -Infinity;
  if (hit) throw new OnnxError('io', `is ${hit}; nothing written`, file);
  // Side files stay shared only with the model they belong to (or a temporary model's source).
  const keepInPlace = sameDir && (inPlace || options.shareSideFiles === true);
  const fileOf = (t: TensorProto): string => parseExternalData(t.externalData, source.dir, t.name ?? 'tensor').file;
  // Saving over its model, the side files it read are its own, whatever their names (optimum's
  // model.onnx_data, one file per tensor): rewritten or removed once nothing else may read them.
  // Only files in the model's own folder: a reader elsewhere is never looked for.
  const ownData = inPlace && sameDir && options.compact ? options.compact.previousDataFiles.filter((f) => path.dirname(path.resolve(f)) === destDir) : [];
  // Saved over without `compact` (the editor: its undo reads earlier states' side files), only a
  // killed save's leftovers go: side files written after the model on disk (its data is renamed in
  // before it), which no state of the model ever read.
  const earlier = inPlace && !options.compact ? family.members().filter((f) => mtimeOf(f) > modelTime) : [...new Set([...family.members(), ...ownData])];
  let readers: Map<string, string> | undefined; // who else reads the earlier side files, looked up once
  const readerOf = (f: string): string | undefined => (readers ??= otherReaders(earlier, file)).get(f);
  const compactable = (f: string): boolean => earlier.includes(f) && linksBefore <= 1 && !isSymlink(f) && readerOf(f) === undefined;
  // A side file still mostly read stays where it is (no copy of gigabytes for a small edit).
  const compacted = options.compact && inPlace && keepInPlace ? wastefulSideFiles(source.proto, fileOf, (t) => describeTensor(t, `tensor '${t.name ?? ''}'`, { modelDir: source.dir }).bytes, compactable, alignment) : new Set<string>();
  const moves = (t: TensorProto): boolean => !keepInPlace || compacted.has(fileOf(t));

  const pending: PendingData[] = [];
  let dataEnd = 0;
  const place = (length: number, read: () => Promise<Uint8Array>): { offset: number } => {
    if (length >= alignment) dataEnd = Math.ceil(dataEnd / alignment) * alignment;
    const offset = dataEnd;
    pending.push({ offset, length, read });
    dataEnd += length;
    return { offset };
  };
  const externalized = (t: TensorProto, length: number, read: () => Promise<Uint8Array>): TensorProto => {
    const { offset } = place(length, read);
    return {
      ...t,
      rawData: undefined,
      floatData: [],
      int32Data: [],
      int64Data: [],
      doubleData: [],
      uint64Data: [],
      dataLocation: EXTERNAL_DATA,
      externalData: [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ],
    };
  };

  // Existing external tensors stay put when saving over their model; any other save copies their
  // bytes into its own side file.
  const relocate = (t: TensorProto): TensorProto => {
    const info = describeTensor(t, `tensor '${t.name ?? ''}'`, { modelDir: source.dir });
    return externalized(t, info.bytes, () => readRawBytes(info));
  };
  const mode = options.externalData ?? 'auto';
  let proto = source.proto;
  if (mode === 'never') proto = await inlineExternal(proto, source.dir, maxBytes, file);
  else proto = mapTensors(proto, (t) => (t.dataLocation === EXTERNAL_DATA && moves(t) ? relocate(t) : t));

  let sink = encodeMessage(ModelSchema, proto);
  if (mode === 'always' || (mode === 'auto' && sink.length > maxBytes)) {
    // Tensors in this destination's earlier side files are copied into the new one.
    const inRewrittenFile = (t: TensorProto): boolean => keepInPlace && family.has(fileOf(t)) && fileOf(t) !== dataPath;
    proto = mapTensors(proto, (t) => {
      if (t.dataLocation === EXTERNAL_DATA) return inRewrittenFile(t) ? relocate(t) : t;
      if ((t.dataType ?? 0) === DataType.String) return t;
      const info = describeTensor(t, `tensor '${t.name ?? ''}'`, { modelDir: source.dir });
      if (info.bytes < threshold || info.storage.kind === 'empty') return t;
      return externalized(t, info.bytes, () => readRawBytes(info));
    });
    sink = encodeMessage(ModelSchema, proto);
  }
  if (sink.length > maxBytes) {
    throw new OnnxError('limit', `the model would be ${formatCount(sink.length)} bytes, over the ${formatCount(maxBytes)}-byte protobuf limit${mode === 'never' ? '; allow external data to save it' : ''}`, file);
  }

  const temps: { temp: string; final: string }[] = [];
  const renamed: string[] = [];
  try {
    if (pending.length > 0) {
      const temp = tempPath(dataPath);
      temps.push({ temp, final: dataPath });
      // A side file rewritten in place keeps what its old one allowed (it may be more private than the model).
      await writeParts(temp, dataParts(pending), sideFileMode(ownData, target.mode));
    }
    const temp = tempPath(file);
    temps.push({ temp, final: file });
    await writeParts(temp, sink.finish(), target.mode);
    // The model is renamed last: until then the old model and its data are whole.
    for (const t of temps) {
      await fs.promises.rename(t.temp, t.final);
      renamed.push(t.final);
    }
  } catch (e) {
    await Promise.all(temps.map((t) => fs.promises.rm(t.temp, { force: true })));
    if (!renamed.includes(file)) await Promise.all(renamed.map((f) => fs.promises.rm(f, { force: true })));
    // target.mode is set only when a file was there to replace.
    throw saveFailed(e, file, target.mode !== undefined);
  }
  // Saving over another file, the source's own side files are not this destination's to remove.
  const keep = inPlace ? [] : [...(source.file ? [source.file] : []), ...dataFilesOf(source.proto, source.dir)];
  const leftDataFiles = await removeUnreferenced(earlier, proto, file, keep, linksBefore > 1 ? () => 'the model it belonged to lives on under another name (a hard link)' : readerOf);
  const kept = keptData(proto, destDir, pending.length > 0 ? dataPath : undefined);
  return {
    file,
    bytes: sink.length,
    dataFile: pending.length > 0 ? dataPath : undefined,
    dataBytes: pending.length > 0 ? dataEnd : 0,
    dataTensorBytes: pending.reduce((n, p) => n + p.length, 0),
    externalTensors: pending.length,
    keptDataBytes: kept.bytes,
    keptDataFiles: kept.files,
    leftDataFiles,
  };
}

/**
 * Side files that may be rewritten (of the model's own family, read by no other model) at least a
 * quarter of whose bytes no tensor reads (beyond the alignment padding the read ones need).
 */
function wastefulSideFiles(proto: ModelProto, fileOf: (t: TensorProto) => string, bytesOf: (t: TensorProto) => number, compactable: (file: string) => boolean, alignment: number): Set<string> {
  const needed = new Map<string, number>();
  mapTensors(proto, (t) => {
    if (t.dataLocation !== EXTERNAL_DATA) return t;
    const file = fileOf(t);
    const length = bytesOf(t);
    needed.set(file, (needed.get(file) ?? 0) + (length >= alignment ? Math.ceil(length / alignment) * alignment : length));
    return t;
  });
  const out = new Set<string>();
  for (const [file, bytes] of needed) {
    const size = fs.statSync(file, { throwIfNoEntry: false })?.size ?? 0;
    // the waste first: whether another model reads the file is the costly question
    if (size > 0 && size - bytes >= size / 4 && compactable(file)) out.add(file);
  }
  return out;
}

/** External data the saved model reads from files other than the one this save wrote. */
function keptData(saved: ModelProto, dir: string, written: string | undefined): { bytes: number; files: string[] } {
  let bytes = 0;
  const files = new Set<string>();
  mapTensors(saved, (t) => {
    if (t.dataLocation !== EXTERNAL_DATA) return t;
    const ext = parseExternalData(t.externalData, dir, t.name ?? 'tensor');
    if (ext.file === written) return t;
    files.add(ext.file);
    bytes += describeTensor(t, `tensor '${t.name ?? ''}'`, { modelDir: dir }).bytes;
    return t;
  });
  return { bytes, files: [...files] };
}

/** The permissions of the side files being replaced, none looser than any of them or the model's; undefined for a new file. */
function sideFileMode(replaced: readonly string[], modelMode: number | undefined): number | undefined {
  let mode = modelMode;
  for (const f of replaced) {
    const m = fs.statSync(f, { throwIfNoEntry: false })?.mode;
    if (m !== undefined) mode = mode === undefined ? m & 0o7777 : mode & m & 0o7777;
  }
  return mode;
}

function mtimeOf(f: string): number {
  return fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? -Infinity;
}

function isSymlink(f: string): boolean {
  try {
    return fs.lstatSync(f).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Removes the `earlier` side files (this destination's, and those its model read when saved over)
 * that the saved model no longer reads (by identity: not a link to one it reads), except `keep`
 * and those another may read (`readerOf`: the old model under another name, another model in the
 * folder), or symbolic links (their targets may be anyone's). What stays, and why, is returned.
 */
async function removeUnreferenced(
  earlier: readonly string[], saved: ModelProto, file: string, keep: readonly string[], readerOf: (f: string) => string | undefined,
): Promise<{ file: string; reason: string }[]> {
  const dir = path.dirname(file);
  const referenced = new Set<string>();
  mapTensors(saved, (t) => {
    if (t.dataLocation === EXTERNAL_DATA) referenced.add(parseExternalData(t.externalData, dir, t.name ?? 'tensor').file);
    return t;
  });
  const left: { file: string; reason: string }[] = [];
  for (const f of earlier) {
    if (referenced.has(f) || [...referenced, ...keep].some((k) => sameFile(k, f)) || !fs.existsSync(f)) continue; // by identity: a link read under another name
    const reader = isSymlink(f) ? 'it is a symbolic link (its target is left as it is)' : readerOf(f);
    if (reader) {
      left.push({ file: f, reason: reader });
      continue;
    }
    try {
      await fs.promises.rm(f, { force: true });
    } catch (e) {
      left.push({ file: f, reason: `it could not be removed (${(e as NodeJS.ErrnoException).code ?? String(e)})` });
    }
  }
  return left;
}

async function* dataParts(pending: readonly PendingData[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (const p of pending) {
    if (p.offset > at) yield new Uint8Array(p.offset - at);
    const bytes = await p.read();
    if (bytes.length !== p.length) throw new OnnxError('shape-mismatch', `tensor data is ${bytes.length} bytes, expected ${p.length}`);
    yield bytes;
    at = p.offset + p.length;
  }
}

/**
 * externalData 'never': every tensor in a side file comes back inline (its bytes read once), after
 * checking that the whole model would still fit the protobuf limit, so nothing is read in vain.
 */
async function inlineExternal(proto: ModelProto, dir: string | undefined, maxBytes: number, file: string): Promise<ModelProto> {
  const external = new Map<TensorProto, TensorInfo>();
  mapTensors(proto, (t) => {
    if (t.dataLocation === EXTERNAL_DATA) external.set(t, describeTensor(t, `tensor '${t.name ?? ''}'`, { modelDir: dir }));
    return t;
  });
  if (!external.size) return proto;
  const total = encodeMessage(ModelSchema, proto).length + [...external.values()].reduce((n, info) => n + info.bytes, 0);
  if (total > maxBytes) throw new OnnxError('limit', `the model would be ${formatCount(total)} bytes inline, over the ${formatCount(maxBytes)}-byte protobuf limit; allow external data to save it`, file);
  const bytes = new Map<TensorProto, Uint8Array>();
  for (const [t, info] of external) bytes.set(t, await readRawBytes(info));
  return mapTensors(proto, (t) => {
    const raw = bytes.get(t);
    return raw ? { ...t, rawData: raw, dataLocation: 0, externalData: [] } : t;
  });
}

/** Bytes of parts gathered before one writev: a GB-scale side file is never held in memory. */
const WRITE_BATCH_BYTES = 16 * 2 ** 20;

/** Writes parts to a new file and flushes it to disk. */
async function writeParts(file: string, parts: Iterable<Uint8Array> | AsyncIterable<Uint8Array>, mode?: number): Promise<void> {
  const handle = await fs.promises.open(file, 'wx');
  try {
    // The file it replaces keeps its permissions (a private 0600 model stays private).
    if (mode !== undefined) await handle.chmod(mode);
    let batch: Uint8Array[] = [];
    let bytes = 0;
    for await (const p of parts) {
      batch.push(p);
      bytes += p.length;
      // Many small parts go in one writev; big ones (external tensors read one at a time) are not held up.
      if (batch.length >= 512 || bytes >= WRITE_BATCH_BYTES) {
        await writeAll(handle, batch);
        batch = [];
        bytes = 0;
      }
    }
    if (batch.length) await writeAll(handle, batch);
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: fs.promises.FileHandle, parts: Uint8Array[]): Promise<void> {
  let rest = parts.filter((p) => p.length > 0);
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest);
    // writev may write partially: drop what was written and go on.
    let left = bytesWritten;
    let i = 0;
    while (i < rest.length && left >= rest[i].length) left -= rest[i++].length;
    rest = rest.slice(i);
    if (left > 0) rest[0] = rest[0].subarray(left);
  }
}
