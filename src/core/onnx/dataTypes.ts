/** ONNX TensorProto.DataType: names, storage widths, and how each is laid out as raw bytes. */

export const enum DataType {
  Undefined = 0,
  Float = 1,
  Uint8 = 2,
  Int8 = 3,
  Uint16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  String = 8,
  Bool = 9,
  Float16 = 10,
  Double = 11,
  Uint32 = 12,
  Uint64 = 13,
  Complex64 = 14,
  Complex128 = 15,
  BFloat16 = 16,
  Float8E4M3FN = 17,
  Float8E4M3FNUZ = 18,
  Float8E5M2 = 19,
  Float8E5M2FNUZ = 20,
  Uint4 = 21,
  Int4 = 22,
  Float4E2M1 = 23,
  Float8E8M0 = 24,
  Uint2 = 25,
  Int2 = 26,
}

interface DataTypeInfo {
  readonly name: string;
  /** Bits one element takes in raw_data; 0 for strings (variable length). */
  readonly bits: number;
  /** Which typed field holds it when raw_data is not used. */
  readonly typedField: 'floatData' | 'int32Data' | 'int64Data' | 'doubleData' | 'uint64Data' | 'stringData';
  /** Real-valued: can be widened to Float32 for analysis. */
  readonly numeric: boolean;
}

const INFO: Record<number, DataTypeInfo> = {
  1: { name: 'FLOAT', bits: 32, typedField: 'floatData', numeric: true },
  2: { name: 'UINT8', bits: 8, typedField: 'int32Data', numeric: true },
  3: { name: 'INT8', bits: 8, typedField: 'int32Data', numeric: true },
  4: { name: 'UINT16', bits: 16, typedField: 'int32Data', numeric: true },
  5: { name: 'INT16', bits: 16, typedField: 'int32Data', numeric: true },
  6: { name: 'INT32', bits: 32, typedField: 'int32Data', numeric: true },
  7: { name: 'INT64', bits: 64, typedField: 'int64Data', numeric: true },
  8: { name: 'STRING', bits: 0, typedField: 'stringData', numeric: false },
  9: { name: 'BOOL', bits: 8, typedField: 'int32Data', numeric: true },
  10: { name: 'FLOAT16', bits: 16, typedField: 'int32Data', numeric: true },
  11: { name: 'DOUBLE', bits: 64, typedField: 'doubleData', numeric: true },
  12: { name: 'UINT32', bits: 32, typedField: 'uint64Data', numeric: true },
  13: { name: 'UINT64', bits: 64, typedField: 'uint64Data', numeric: true },
  14: { name: 'COMPLEX64', bits: 64, typedField: 'floatData', numeric: false },
  15: { name: 'COMPLEX128', bits: 128, typedField: 'doubleData', numeric: false },
  16: { name: 'BFLOAT16', bits: 16, typedField: 'int32Data', numeric: true },
  17: { name: 'FLOAT8E4M3FN', bits: 8, typedField: 'int32Data', numeric: true },
  18: { name: 'FLOAT8E4M3FNUZ', bits: 8, typedField: 'int32Data', numeric: true },
  19: { name: 'FLOAT8E5M2', bits: 8, typedField: 'int32Data', numeric: true },
  20: { name: 'FLOAT8E5M2FNUZ', bits: 8, typedField: 'int32Data', numeric: true },
  21: { name: 'UINT4', bits: 4, typedField: 'int32Data', numeric: true },
  22: { name: 'INT4', bits: 4, typedField: 'int32Data', numeric: true },
  23: { name: 'FLOAT4E2M1', bits: 4, typedField: 'int32Data', numeric: true },
  24: { name: 'FLOAT8E8M0', bits: 8, typedField: 'int32Data', numeric: true },
  25: { name: 'UINT2', bits: 2, typedField: 'int32Data', numeric: true },
  26: { name: 'INT2', bits: 2, typedField: 'int32Data', numeric: true },
};

export function dataTypeInfo(dataType: number): DataTypeInfo | undefined {
  return INFO[dataType];
}

export function dataTypeName(dataType: number | undefined): string {
  if (dataType === undefined || dataType === 0) return 'UNDEFINED';
  return INFO[dataType]?.name ?? `UNKNOWN(${dataType})`;
}

/** Bytes `elements` values take in raw_data (sub-byte types are packed, last byte padded). */
export function rawByteLength(dataType: number, elements: number): number {
  const bits = INFO[dataType]?.bits ?? 0;
  return Math.ceil((elements * bits) / 8);
}

/** Elements carried per int32_data entry: sub-byte types pack a byte's worth into each entry. */
export function elementsPerInt32Entry(dataType: number): number {
  const bits = INFO[dataType]?.bits ?? 8;
  return bits < 8 ? 8 / bits : 1;
}

/** The float types a weight may be stored in. */
export type FloatSource = DataType.Float | DataType.Float16 | DataType.BFloat16 | DataType.Double;

export function isFloatSource(dataType: number): dataType is FloatSource {
  return dataType === DataType.Float || dataType === DataType.Float16 || dataType === DataType.BFloat16 || dataType === DataType.Double;
}

/** Bytes one value of a float source takes. */
export function floatBytes(dataType: FloatSource): number {
  return dataType === DataType.Double ? 8 : dataType === DataType.Float ? 4 : 2;
}
