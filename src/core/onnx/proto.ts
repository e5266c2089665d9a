/**
 * TypeScript shapes of the decoded ONNX messages (see schema.ts for their field numbers).
 * Decoded objects are frozen: edit by building new objects, e.g. `{ ...node, name: 'x' }`, so
 * everything untouched keeps its original bytes. Absent scalar fields are `undefined`; absent
 * repeated fields are empty arrays.
 */
import type { Int64 } from '../protobuf/wire';
import type { PayloadRuns, WithUnknown } from '../protobuf/schema';

export type { Int64, PayloadRuns };

export interface StringStringEntry extends WithUnknown {
  readonly key?: string;
  readonly value?: string;
}

export interface OperatorSetId extends WithUnknown {
  readonly domain?: string;
  readonly version?: Int64;
}

export interface TensorProto extends WithUnknown {
  readonly dims: readonly Int64[];
  readonly dataType?: number;
  readonly segment?: WithUnknown & { readonly begin?: Int64; readonly end?: Int64 };
  readonly floatData: PayloadRuns;
  readonly int32Data: PayloadRuns;
  readonly stringData: readonly Uint8Array[];
  readonly int64Data: PayloadRuns;
  readonly name?: string;
  readonly rawData?: Uint8Array;
  readonly doubleData: PayloadRuns;
  readonly uint64Data: PayloadRuns;
  readonly docString?: string;
  readonly externalData: readonly StringStringEntry[];
  /** DEFAULT (0) or EXTERNAL_DATA. */
  readonly dataLocation?: number;
  readonly metadataProps: readonly StringStringEntry[];
}

/** TensorProto.DataLocation.EXTERNAL: the tensor's bytes are in a side file named by `externalData`. */
export const EXTERNAL_DATA = 1;

export interface SparseTensorProto extends WithUnknown {
  readonly values?: TensorProto;
  readonly indices?: TensorProto;
  readonly dims: readonly Int64[];
}

export interface Dimension extends WithUnknown {
  readonly dimValue?: Int64;
  readonly dimParam?: string;
  readonly denotation?: string;
}

export interface TensorShapeProto extends WithUnknown {
  readonly dim: readonly Dimension[];
}

export interface TypeProto extends WithUnknown {
  readonly tensorType?: WithUnknown & { readonly elemType?: number; readonly shape?: TensorShapeProto };
  readonly sparseTensorType?: WithUnknown & { readonly elemType?: number; readonly shape?: TensorShapeProto };
  readonly sequenceType?: WithUnknown & { readonly elemType?: TypeProto };
  readonly optionalType?: WithUnknown & { readonly elemType?: TypeProto };
  readonly mapType?: WithUnknown & { readonly keyType?: number; readonly valueType?: TypeProto };
  readonly opaqueType?: WithUnknown & { readonly domain?: string; readonly name?: string };
  readonly denotation?: string;
}

export interface ValueInfoProto extends WithUnknown {
  readonly name?: string;
  readonly type?: TypeProto;
  readonly docString?: string;
  readonly metadataProps: readonly StringStringEntry[];
}

export const enum AttributeType {
  Undefined = 0,
  Float = 1,
  Int = 2,
  String = 3,
  Tensor = 4,
  Graph = 5,
  Floats = 6,
  Ints = 7,
  Strings = 8,
  Tensors = 9,
  Graphs = 10,
  SparseTensor = 11,
  SparseTensors = 12,
  TypeProto = 13,
  TypeProtos = 14,
}

export interface AttributeProto extends WithUnknown {
  readonly name?: string;
  readonly f?: number;
  readonly i?: Int64;
  readonly s?: Uint8Array;
  readonly t?: TensorProto;
  readonly g?: GraphProto;
  readonly floats: readonly number[];
  readonly ints: readonly Int64[];
  readonly strings: readonly Uint8Array[];
  readonly tensors: readonly TensorProto[];
  readonly graphs: readonly GraphProto[];
  readonly docString?: string;
  readonly tp?: TypeProto;
  readonly typeProtos: readonly TypeProto[];
  readonly type?: number;
  readonly refAttrName?: string;
  readonly sparseTensor?: SparseTensorProto;
  readonly sparseTensors: readonly SparseTensorProto[];
}

export interface NodeProto extends WithUnknown {
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly name?: string;
  readonly opType?: string;
  readonly attribute: readonly AttributeProto[];
  readonly docString?: string;
  readonly domain?: string;
  readonly overload?: string;
  readonly metadataProps: readonly StringStringEntry[];
  readonly deviceConfigurations: readonly object[];
}

export interface GraphProto extends WithUnknown {
  readonly node: readonly NodeProto[];
  readonly name?: string;
  readonly initializer: readonly TensorProto[];
  readonly docString?: string;
  readonly input: readonly ValueInfoProto[];
  readonly output: readonly ValueInfoProto[];
  readonly valueInfo: readonly ValueInfoProto[];
  readonly quantizationAnnotation: readonly object[];
  readonly sparseInitializer: readonly SparseTensorProto[];
  readonly metadataProps: readonly StringStringEntry[];
}

export interface TrainingInfoProto extends WithUnknown {
  readonly initialization?: GraphProto;
  readonly algorithm?: GraphProto;
  readonly initializationBinding: readonly StringStringEntry[];
  readonly updateBinding: readonly StringStringEntry[];
}

export interface FunctionProto extends WithUnknown {
  readonly name?: string;
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly attribute: readonly string[];
  readonly node: readonly NodeProto[];
  readonly docString?: string;
  readonly opsetImport: readonly OperatorSetId[];
  readonly domain?: string;
  readonly attributeProto: readonly AttributeProto[];
  readonly valueInfo: readonly ValueInfoProto[];
  readonly overload?: string;
  readonly metadataProps: readonly StringStringEntry[];
}

export interface ModelProto extends WithUnknown {
  readonly irVersion?: Int64;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly domain?: string;
  readonly modelVersion?: Int64;
  readonly docString?: string;
  readonly graph?: GraphProto;
  readonly opsetImport: readonly OperatorSetId[];
  readonly metadataProps: readonly StringStringEntry[];
  readonly trainingInfo: readonly TrainingInfoProto[];
  readonly functions: readonly FunctionProto[];
  readonly configuration: readonly object[];
}
