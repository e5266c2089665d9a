/**
 * Schema-driven protobuf decoding into frozen plain objects.
 *
 * Two promises make lossless saving possible:
 * - every decoded message is frozen and remembers the exact bytes it came from (see `sourceOf`),
 *   so an untouched message is written back byte for byte; an edit makes a new object instead;
 * - fields the schema does not know are kept as raw bytes in `$unknown`.
 */
import { OnnxError } from '../errors';
import { WireReader, WireType, toSigned32, toSigned64, type Int64 } from './wire';
import { compile, isRepeated, type CompiledSchema, type FieldSpec, type MessageSchema, type UnknownField } from './schema';

/** The bytes (content only, no tag or length) each decoded message came from. */
const sources = new WeakMap<object, Uint8Array>();

/** The original encoding of a message object, or undefined when it was built or edited in memory. */
export function sourceOf(message: object): Uint8Array | undefined {
  return sources.get(message);
}

export interface DecodeLimits {
  /** Deepest message nesting accepted (graphs inside attributes inside nodes...). */
  maxDepth: number;
}

export const defaultDecodeLimits: DecodeLimits = { maxDepth: 100 };

const EMPTY: readonly never[] = Object.freeze([]);
const utf8 = new TextDecoder('utf-8');

interface Context {
  limits: DecodeLimits;
  /** Path pieces from the root, for error messages; labels are attached lazily. */
  path: string[];
}

export function decodeMessage<T>(
  schema: MessageSchema,
  bytes: Uint8Array,
  rootPath: string,
  limits: DecodeLimits = defaultDecodeLimits,
): T {
  const ctx: Context = { limits, path: [rootPath] };
  return decodeInto(compile(schema), bytes, ctx, 0) as T;
}

function wireTypeOf(f: FieldSpec): WireType {
  switch (f.kind) {
    case 'int32':
    case 'int64':
    case 'uint64':
    case 'bool':
      return WireType.Varint;
    case 'float':
      return WireType.Fixed32;
    case 'double':
      return WireType.Fixed64;
    case 'payload':
      return f.encoding === 'varint' ? WireType.Varint : f.encoding === 'fixed32' ? WireType.Fixed32 : WireType.Fixed64;
    default:
      return WireType.LengthDelimited;
  }
}

function decodeInto(c: CompiledSchema, bytes: Uint8Array, ctx: Context, depth: number): object {
  if (depth > ctx.limits.maxDepth) {
    throw new OnnxError('limit', `messages nest deeper than ${ctx.limits.maxDepth} levels`, ctx.path.join('.'));
  }
  const out: Record<string, unknown> = {};
  const repeated = new Map<string, unknown[]>();
  let unknown: UnknownField[] | undefined;
  const reader = new WireReader(bytes, 0, bytes.length, () => describe(c, out, ctx));

  while (!reader.done) {
    const fieldStart = reader.pos;
    const tag = reader.smallVarint('field tag');
    const no = Math.floor(tag / 8);
    const wire = tag & 7;
    if (no === 0) reader.fail('corrupt', 'field number 0 is invalid');
    const spec = c.byNumber.get(no);
    if (!spec) {
      reader.skip(wire);
      (unknown ??= []).push({ no, bytes: bytes.subarray(fieldStart, reader.pos) });
      continue;
    }
    const expected = wireTypeOf(spec);
    const packable = isRepeated(spec) && expected !== WireType.LengthDelimited;
    if (wire !== expected && !(packable && wire === WireType.LengthDelimited)) {
      reader.fail('corrupt', `field ${spec.name} (${no}) has wire type ${wire}, expected ${expected}`);
    }

    if (spec.kind === 'payload') {
      // Keep the encoded values as they are: a packed run or a single value.
      const run = wire === WireType.LengthDelimited ? reader.lengthDelimited(spec.name) : takeOne(reader, wire);
      pushTo(repeated, spec.name, run);
      continue;
    }
    if (isRepeated(spec) && wire === WireType.LengthDelimited && expected !== WireType.LengthDelimited) {
      const run = reader.lengthDelimited(spec.name);
      const sub = new WireReader(run, 0, run.length, reader.where);
      while (!sub.done) pushTo(repeated, spec.name, readScalar(sub, spec));
      continue;
    }
    let value: unknown;
    if (spec.kind === 'message') {
      const content = reader.lengthDelimited(spec.name);
      const index = spec.repeated ? (repeated.get(spec.name)?.length ?? 0) : -1;
      ctx.path.push(index >= 0 ? `${spec.name}[${index}]` : spec.name);
      value = decodeInto(compile(spec.message()), content, ctx, depth + 1);
      ctx.path.pop();
    } else {
      value = readScalar(reader, spec);
    }
    if (isRepeated(spec)) pushTo(repeated, spec.name, value);
    else out[spec.name] = value;
  }

  for (const f of c.schema.fields) {
    if (isRepeated(f)) {
      const list = repeated.get(f.name);
      out[f.name] = list ? Object.freeze(list) : EMPTY;
    }
  }
  if (unknown) out.$unknown = Object.freeze(unknown);
  Object.freeze(out);
  sources.set(out, bytes);
  return out;
}

function takeOne(reader: WireReader, wire: number): Uint8Array {
  const start = reader.pos;
  reader.skip(wire);
  return reader.bytes.subarray(start, reader.pos);
}

function pushTo(map: Map<string, unknown[]>, name: string, value: unknown): void {
  const list = map.get(name);
  if (list) list.push(value);
  else map.set(name, [value]);
}

function readScalar(reader: WireReader, spec: FieldSpec): unknown {
  switch (spec.kind) {
    case 'int64':
      return toSigned64(reader.varint());
    case 'uint64':
      return reader.varint();
    case 'int32':
      return toSigned32(reader.varint());
    case 'bool':
      return reader.varint() !== 0;
    case 'float': {
      const b = reader.fixed32();
      return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
    }
    case 'double': {
      const b = reader.fixed64();
      return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
    }
    case 'string':
      return utf8.decode(reader.lengthDelimited(spec.name));
    case 'bytes':
      return reader.lengthDelimited(spec.name);
    default:
      throw new Error(`unreachable kind ${spec.kind}`);
  }
}

function describe(c: CompiledSchema, partial: Record<string, unknown>, ctx: Context): string {
  const label = c.schema.label?.(partial);
  const path = ctx.path.join('.');
  return label ? `${path} ${label}` : path;
}

export type { Int64 };
