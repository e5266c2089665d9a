/**
 * Tensor references: where a stored tensor's bytes are, checked against its dims and data type,
 * without reading or copying the values.
 */
import { OnnxError, formatCount } from '../errors';
import type { Int64 } from '../protobuf/wire';
import { DataType, dataTypeInfo, dataTypeName, elementsPerInt32Entry, rawByteLength } from './dataTypes';
import { checkExternalRange, parseExternalData, type ExternalLocation } from './externalData';
import { EXTERNAL_DATA, type PayloadRuns, type SparseTensorProto, type TensorProto } from './proto';

export type TypedField = 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data';

export type TensorStorage =
  /** raw_data inside the model file: a view, never a copy. */
  | { readonly kind: 'raw'; readonly bytes: Uint8Array }
  /** A typed field (float_data, int32_data...): encoded runs, decoded on demand. */
  | { readonly kind: 'typed'; readonly field: TypedField; readonly runs: PayloadRuns; readonly entries: number }
  /** string_data */
  | { readonly kind: 'strings'; readonly values: readonly Uint8Array[] }
  /** A side file, read lazily. */
  | { readonly kind: 'external'; readonly external: ExternalLocation }
  /** Values held by a Constant node attribute (value_float(s), value_int(s)). */
  | { readonly kind: 'values'; readonly values: readonly (number | bigint)[] }
  /** A sparse tensor: values at flat or coordinate indices. */
  | { readonly kind: 'sparse'; readonly values: TensorInfo; readonly indices: TensorInfo }
  /** No elements at all. */
  | { readonly kind: 'empty' };

/** What a tensor is and where its data is, validated. */
export interface TensorInfo {
  readonly dataType: number;
  readonly dims: readonly number[];
  /** Number of elements the dims describe (for sparse tensors: the stored values). */
  readonly elements: number;
  /** Bytes the data takes where it is stored (file, side file, or attribute). */
  readonly bytes: number;
  readonly storage: TensorStorage;
}

export interface TensorLimits {
  /** Largest element count accepted for one tensor. */
  readonly maxElements: number;
  /** Most dims one tensor may have. */
  readonly maxRank: number;
}

export const defaultTensorLimits: TensorLimits = { maxElements: 2 ** 40, maxRank: 64 };

/** Turns dims into safe numbers, refusing negative, huge or too many dims before any allocation. */
export function checkDims(dims: readonly Int64[], where: string, limits: TensorLimits = defaultTensorLimits): { dims: number[]; elements: number } {
  if (dims.length > limits.maxRank) {
    throw new OnnxError('limit', `has ${dims.length} dims; at most ${limits.maxRank} are accepted`, where);
  }
  const out: number[] = [];
  let elements = 1;
  for (const d of dims) {
    if (typeof d !== 'number' || d < 0) {
      throw new OnnxError('corrupt', `dims [${dims.join(', ')}] include ${d}, which is not a valid size`, where);
    }
    out.push(d);
    elements *= d;
  }
  if (elements > limits.maxElements) {
    throw new OnnxError('limit', `dims [${out.join(', ')}] describe ${formatCount(elements)} elements; more than ${formatCount(limits.maxElements)} are refused`, where);
  }
  return { dims: out, elements };
}

function runBytes(runs: PayloadRuns): number {
  let n = 0;
  for (const r of runs) n += r.length;
  return n;
}

function countVarints(runs: PayloadRuns): number {
  let n = 0;
  for (const r of runs) for (let i = 0; i < r.length; i++) if (r[i] < 0x80) n++;
  return n;
}

const TYPED_FIELDS: readonly TypedField[] = ['floatData', 'int32Data', 'int64Data', 'doubleData', 'uint64Data'];

function entriesExpected(dataType: number, elements: number, field: TypedField): number {
  if (field === 'int32Data') return Math.ceil(elements / elementsPerInt32Entry(dataType));
  if (dataType === DataType.Complex64 || dataType === DataType.Complex128) return elements * 2;
  return elements;
}

export interface TensorContext {
  /** Folder of the model file, for external data; undefined for bytes with no file. */
  readonly modelDir: string | undefined;
  readonly limits?: TensorLimits;
}

/** Locates and validates a TensorProto's data. */
export function describeTensor(t: TensorProto, where: string, ctx: TensorContext): TensorInfo {
  const dataType = t.dataType ?? 0;
  const info = dataTypeInfo(dataType);
  if (!info) throw new OnnxError('corrupt', `data type ${dataType} is not an ONNX data type`, where);
  const { dims, elements } = checkDims(t.dims, where, ctx.limits);
  const typeName = dataTypeName(dataType);
  const expectedBytes = rawByteLength(dataType, elements);

  if (t.dataLocation === EXTERNAL_DATA) {
    if (dataType === DataType.String) throw new OnnxError('corrupt', 'STRING tensors cannot use external data', where);
    const external = parseExternalData(t.externalData, ctx.modelDir, where);
    const bytes = checkExternalRange(external, expectedBytes, where);
    return { dataType, dims, elements, bytes, storage: { kind: 'external', external } };
  }
  if (t.rawData !== undefined) {
    if (dataType === DataType.String) throw new OnnxError('corrupt', 'STRING tensors must use string_data, not raw_data', where);
    if (t.rawData.length !== expectedBytes) {
      throw new OnnxError(
        'shape-mismatch',
        `raw_data is ${formatCount(t.rawData.length)} bytes but dims [${dims.join(', ')}] of ${typeName} say ${formatCount(expectedBytes)}`,
        where,
      );
    }
    return { dataType, dims, elements, bytes: t.rawData.length, storage: { kind: 'raw', bytes: t.rawData } };
  }
  if (dataType === DataType.String) {
    if (t.stringData.length !== elements) {
      throw new OnnxError('shape-mismatch', `has ${formatCount(t.stringData.length)} strings but dims [${dims.join(', ')}] say ${formatCount(elements)}`, where);
    }
    const bytes = t.stringData.reduce((n, s) => n + s.length, 0);
    return { dataType, dims, elements, bytes, storage: { kind: 'strings', values: t.stringData } };
  }
  const present = TYPED_FIELDS.filter((f) => t[f].length > 0);
  if (present.length === 0) {
    if (elements === 0) return { dataType, dims, elements, bytes: 0, storage: { kind: 'empty' } };
    throw new OnnxError('shape-mismatch', `has no data but dims [${dims.join(', ')}] say ${formatCount(elements)} elements`, where);
  }
  if (present.length > 1 || present[0] !== info.typedField) {
    throw new OnnxError('corrupt', `${typeName} data is stored in ${present.join(', ')}, expected ${info.typedField}`, where);
  }
  const field = present[0];
  const runs = t[field];
  const bytes = runBytes(runs);
  const entries = field === 'floatData' ? bytes / 4 : field === 'doubleData' ? bytes / 8 : countVarints(runs);
  const expected = entriesExpected(dataType, elements, field);
  if (entries !== expected) {
    throw new OnnxError(
      'shape-mismatch',
      `${field} holds ${formatCount(entries)} values but dims [${dims.join(', ')}] of ${typeName} need ${formatCount(expected)}`,
      where,
    );
  }
  return { dataType, dims, elements, bytes, storage: { kind: 'typed', field, runs, entries } };
}

/** Locates a sparse tensor: its values and indices tensors, checked against the dense dims. */
export function describeSparseTensor(s: SparseTensorProto, where: string, ctx: TensorContext): TensorInfo {
  if (!s.values) throw new OnnxError('corrupt', 'sparse tensor has no values', where);
  if (!s.indices) throw new OnnxError('corrupt', 'sparse tensor has no indices', where);
  const values = describeTensor(s.values, `${where}.values`, ctx);
  const indices = describeTensor(s.indices, `${where}.indices`, ctx);
  const { dims } = checkDims(s.dims, where, ctx.limits);
  if (values.dims.length !== 1) throw new OnnxError('corrupt', `sparse values must be 1-D, got [${values.dims.join(', ')}]`, where);
  const nnz = values.elements;
  const okIndexShape =
    (indices.dims.length === 1 && indices.dims[0] === nnz) ||
    (indices.dims.length === 2 && indices.dims[0] === nnz && indices.dims[1] === dims.length);
  if (!okIndexShape) {
    throw new OnnxError('shape-mismatch', `indices [${indices.dims.join(', ')}] do not fit ${nnz} values of a rank-${dims.length} tensor`, where);
  }
  if (indices.dataType !== DataType.Int64) throw new OnnxError('corrupt', `sparse indices must be INT64, got ${dataTypeName(indices.dataType)}`, where);
  return {
    dataType: values.dataType,
    dims,
    elements: nnz,
    bytes: values.bytes + indices.bytes,
    storage: { kind: 'sparse', values, indices },
  };
}
