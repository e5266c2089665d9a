/**
 * Opening a model: read the file once, sniff, decode the structure (tensor data stays where it
 * is, as views into the file's bytes or references to side files), and index it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OnnxError, formatCount } from '../errors';
import { decodeMessage, defaultDecodeLimits, type DecodeLimits } from '../protobuf/decode';
import { ModelSchema } from './schema';
import { sniffModel } from './sniff';
import { indexModel, type ModelIndex } from './modelIndex';
import { defaultTensorLimits, type TensorLimits } from './tensor';
import type { ModelProto } from './proto';

export interface OnnxModel {
  /** Absolute path of the file it was read from, if any. */
  readonly file?: string;
  /** Folder that external-data locations are relative to. */
  readonly dir?: string;
  /** The file's bytes; every raw_data tensor is a view into these. */
  readonly bytes: Uint8Array;
  readonly proto: ModelProto;
  readonly index: ModelIndex;
}

export interface OpenOptions {
  readonly decode?: DecodeLimits;
  readonly tensors?: TensorLimits;
  /** Largest model file accepted (protobuf cannot exceed 2 GiB). */
  readonly maxFileBytes?: number;
}

export const MAX_PROTOBUF_BYTES = 2 ** 31 - 1;

/** Decodes and indexes model bytes. `dir` is where external data would be found. */
export function parseModel(bytes: Uint8Array, source: { file?: string; dir?: string } = {}, options: OpenOptions = {}): OnnxModel {
  const where = source.file ? path.basename(source.file) : 'model';
  const maxBytes = options.maxFileBytes ?? MAX_PROTOBUF_BYTES;
  if (bytes.length > maxBytes) {
    throw new OnnxError('limit', `is ${formatCount(bytes.length)} bytes; an ONNX protobuf cannot exceed ${formatCount(maxBytes)}`, where);
  }
  sniffModel(bytes, where);
  const proto = decodeMessage<ModelProto>(ModelSchema, bytes, where === 'model' ? 'model' : `${where}`, options.decode ?? defaultDecodeLimits);
  if (!proto.graph) throw new OnnxError('not-onnx', 'not an ONNX model: it has no graph', where);
  const index = indexModel(proto, { modelDir: source.dir, limits: options.tensors ?? defaultTensorLimits });
  return { file: source.file, dir: source.dir, bytes, proto, index };
}

/** Bytes the model's tensors read from side files (what the .onnx file's own size leaves out). */
export function externalBytes(index: ModelIndex): number {
  let total = 0;
  for (const t of index.tensors) if (t.storage.kind === 'external') total += t.bytes;
  return total;
}

/** Reads and indexes a model file. */
export function openModel(file: string, options: OpenOptions = {}): OnnxModel {
  const abs = path.resolve(file);
  let bytes: Uint8Array;
  try {
    const st = fs.statSync(abs);
    if (!st.isFile()) throw new OnnxError('io', 'is not a file', file);
    const maxBytes = options.maxFileBytes ?? MAX_PROTOBUF_BYTES;
    if (st.size > maxBytes) {
      throw new OnnxError('limit', `is ${formatCount(st.size)} bytes; an ONNX protobuf cannot exceed ${formatCount(maxBytes)}`, file);
    }
    bytes = fs.readFileSync(abs);
  } catch (e) {
    if (e instanceof OnnxError) throw e;
    throw new OnnxError('io', `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, file);
  }
  return parseModel(bytes, { file: abs, dir: path.dirname(abs) }, options);
}
