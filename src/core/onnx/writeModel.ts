/**
 * Saving a model. An unedited model is written back byte for byte; an edited one re-encodes only
 * the messages on the path to each edit. External data is kept where it is when saving beside
 * it, copied into a new side file when saving elsewhere, and used for big tensors when the model
 * would pass the 2 GiB protobuf limit. Everything is written to temp files that are renamed into
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
import { SideFileFamily, removeDeadTemps, saveTarget, tempPath } from './saveFiles';
import { MAX_PROTOBUF_BYTES } from './model';
import type { ModelProto, TensorProto } from './proto';

export interface SaveOptions {
  /** 'auto': inline unless the model would pass the protobuf limit. Default 'auto'. */
  readonly externalData?: 'auto' | 'always' | 'never';
  /** Side file for external data, relative to the destination folder. Default `<model file>.data`. */
  readonly dataFile?: string;
  /** Inline tensors of at least this many bytes move to the side file when externalizing. Default 1024. */
  readonly threshold?: number;
  /** The protobuf size limit (a parameter so tests can exercise it without writing 2 GiB). */
  readonly maxProtobufBytes?: number;
  /** Offsets of tensors of at least this size in the side file are multiples of it (mmap-friendly). Default 4096. */
  readonly alignment?: number;
}

export interface SaveResult {
  readonly file: string;
  readonly bytes: number;
  /** The side file written, if any (absolute path). */
  readonly dataFile?: string;
  readonly dataBytes: number;
  /** Tensors written to the side file. */
  readonly externalTensors: number;
}

interface Source {
  readonly proto: ModelProto;
  /** Folder external-data locations in `proto` are relative to. */
  readonly dir?: string;
}

interface PendingData {
  readonly offset: number;
  readonly length: number;
  readonly read: () => Promise<Uint8Array>;
}

const EXTERNAL = 1;

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
      dataLocation: EXTERNAL,
      externalData: [
        { key: 'location', value: location },
        { key: 'offset', value: String(offset) },
        { key: 'length', value: String(length) },
      ],
    };
  };

  // Existing external tensors stay put when saving beside them; saving elsewhere copies their
  // bytes into the new side file.
  const relocate = (t: TensorProto): TensorProto => {
    const info = describeTensor(t, `tensor '${t.name ?? ''}'`, { modelDir: source.dir });
    return externalized(t, info.bytes, () => readRawBytes(info));
  };
  const mode = options.externalData ?? 'auto';
  let proto = source.proto;
  if (mode === 'never') proto = await inlineExternal(proto, source.dir, maxBytes, file);
  else if (!sameDir) proto = mapTensors(proto, (t) => (t.dataLocation === EXTERNAL ? relocate(t) : t));

  let sink = encodeMessage(ModelSchema, proto);
  if (mode === 'always' || (mode === 'auto' && sink.length > maxBytes)) {
    // Tensors in this destination's earlier side files are copied into the new one.
    const inRewrittenFile = (t: TensorProto): boolean =>
      sameDir && family.has(parseExternalData(t.externalData, source.dir, t.name ?? 'tensor').file);
    proto = mapTensors(proto, (t) => {
      if (t.dataLocation === EXTERNAL) return inRewrittenFile(t) ? relocate(t) : t;
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
      await writeParts(temp, dataParts(pending), target.mode);
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
    if (e instanceof OnnxError) throw e;
    throw new OnnxError('io', `saving failed (${(e as NodeJS.ErrnoException).code ?? String(e)}); the existing file is unchanged`, file);
  }
  await removeUnreferenced(family, proto, destDir);
  return {
    file,
    bytes: sink.length,
    dataFile: pending.length > 0 ? dataPath : undefined,
    dataBytes: pending.length > 0 ? dataEnd : 0,
    externalTensors: pending.length,
  };
}

/** Removes this destination's earlier side files that the saved model no longer reads. */
async function removeUnreferenced(family: SideFileFamily, saved: ModelProto, dir: string): Promise<void> {
  const referenced = new Set<string>();
  mapTensors(saved, (t) => {
    if (t.dataLocation === EXTERNAL) referenced.add(parseExternalData(t.externalData, dir, t.name ?? 'tensor').file);
    return t;
  });
  for (const f of family.members()) if (!referenced.has(f)) await fs.promises.rm(f, { force: true });
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
    if (t.dataLocation === EXTERNAL) external.set(t, describeTensor(t, `tensor '${t.name ?? ''}'`, { modelDir: dir }));
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
