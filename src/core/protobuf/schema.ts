/**
 * How a protobuf message is laid out: field numbers, names and value kinds. The ONNX table
 * (src/core/onnx/schema.ts) is written with these; the generic decoder and encoder read it.
 */
export type ScalarKind = 'int32' | 'int64' | 'uint64' | 'float' | 'double' | 'bool' | 'string' | 'bytes';

/**
 * `payload` fields hold bulk numeric data (TensorProto.float_data and friends). They are never
 * decoded into JS numbers when a model is read: they are kept as the byte runs they were on the
 * wire (packed runs or single values), decoded only when someone asks for the tensor's values.
 */
export type PayloadEncoding = 'varint' | 'fixed32' | 'fixed64';

export type FieldSpec =
  | { no: number; name: string; kind: ScalarKind; repeated?: boolean; packed?: boolean }
  | { no: number; name: string; kind: 'message'; repeated?: boolean; message: () => MessageSchema }
  | { no: number; name: string; kind: 'payload'; encoding: PayloadEncoding };

export interface MessageSchema {
  readonly name: string;
  readonly fields: readonly FieldSpec[];
  /** Optional: a short label for error messages, e.g. the tensor's or node's name. */
  readonly label?: (partial: Record<string, unknown>) => string | undefined;
}

/** A field the schema does not know, kept exactly as it was on the wire (tag included). */
export interface UnknownField {
  readonly no: number;
  readonly bytes: Uint8Array;
}

/** Every decoded message may carry the fields its schema did not know. */
export interface WithUnknown {
  readonly $unknown?: readonly UnknownField[];
}

/** Payload runs: each entry is a run of encoded values (a packed run, or one unpacked value). */
export type PayloadRuns = readonly Uint8Array[];

export interface CompiledSchema {
  readonly schema: MessageSchema;
  readonly byNumber: ReadonlyMap<number, FieldSpec>;
  /** Field specs in ascending field number: the order protobuf serializers write. */
  readonly ordered: readonly FieldSpec[];
}

const compiled = new WeakMap<MessageSchema, CompiledSchema>();

export function compile(schema: MessageSchema): CompiledSchema {
  let c = compiled.get(schema);
  if (!c) {
    const byNumber = new Map<number, FieldSpec>();
    for (const f of schema.fields) {
      if (byNumber.has(f.no)) throw new Error(`schema ${schema.name}: field ${f.no} declared twice`);
      byNumber.set(f.no, f);
    }
    c = { schema, byNumber, ordered: [...schema.fields].sort((a, b) => a.no - b.no) };
    compiled.set(schema, c);
  }
  return c;
}

export function isRepeated(f: FieldSpec): boolean {
  return f.kind === 'payload' || ('repeated' in f && f.repeated === true);
}
