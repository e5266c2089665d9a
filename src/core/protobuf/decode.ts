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
import { compile, isRepeated, type FieldSpec, type MessageSchema, type UnknownField } from './schema';

/**
 * Decoded messages are instances of this class: the private field remembers the bytes (content
 * only, no tag or length) the message came from. A spread copy (`{ ...message }`) does not carry
 * private fields, so an edited copy is re-encoded while the untouched original is not.
 */
class Decoded {
  readonly #bytes: Uint8Array;
  readonly #start: number;
  readonly #end: number;
  constructor(bytes: Uint8Array, start: number, end: number) {
    this.#bytes = bytes;
    this.#start = start;
    this.#end = end;
  }
  static sourceOf(message: object): Uint8Array | undefined {
    if (!(#bytes in message)) return undefined;
    const m = message as Decoded;
    return m.#bytes.subarray(m.#start, m.#end);
  }
}

/** The original encoding of a message object, or undefined when it was built or edited in memory. */
export function sourceOf(message: object): Uint8Array | undefined {
  return Decoded.sourceOf(message);
}

export interface DecodeLimits {
  /** Deepest message nesting accepted (graphs inside attributes inside nodes...). */
  maxDepth: number;
  /**
   * Most messages and strings accepted: a fixed allowance plus one per this many input bytes. Each
   * decoded message costs a few hundred bytes of memory and more downstream, so 10 million two-byte
   * messages in a 20 MB file would cost gigabytes; real models stay far below the bound.
   */
  messages: { readonly base: number; readonly bytesPerMessage: number };
}

export const defaultDecodeLimits: DecodeLimits = { maxDepth: 100, messages: { base: 2_000_000, bytesPerMessage: 64 } };

const EMPTY: readonly never[] = Object.freeze([]);

// ------------------------------------------------------------ decoding plans

const enum Kind {
  Int32,
  Int64,
  Uint64,
  Bool,
  Float,
  Double,
  String,
  Bytes,
  Message,
  Payload,
}

/** Everything the hot loop needs about a field, worked out once per schema. */
interface FieldPlan {
  readonly name: string;
  readonly no: number;
  readonly kind: Kind;
  readonly wire: WireType;
  readonly repeated: boolean;
  /** Repeated numeric field that may arrive packed. */
  readonly packable: boolean;
  /** Index among the message's repeated fields. */
  readonly slot: number;
  readonly message?: () => Plan;
}

interface Plan {
  readonly schema: MessageSchema;
  /** Creates an empty message with every field present, so field stores never change its shape. */
  readonly create: new (bytes: Uint8Array, start: number, end: number) => Record<string, unknown>;
  /** Dense table by field number (ONNX field numbers are small). */
  readonly byNumber: readonly (FieldPlan | undefined)[];
  readonly fieldNames: readonly string[];
  readonly repeated: readonly FieldPlan[];
}

const plans = new WeakMap<MessageSchema, Plan>();

const KIND: Record<string, Kind> = {
  int32: Kind.Int32, int64: Kind.Int64, uint64: Kind.Uint64, bool: Kind.Bool, float: Kind.Float,
  double: Kind.Double, string: Kind.String, bytes: Kind.Bytes, message: Kind.Message, payload: Kind.Payload,
};

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

function planOf(schema: MessageSchema): Plan {
  let plan = plans.get(schema);
  if (plan) return plan;
  const c = compile(schema);
  const byNumber: (FieldPlan | undefined)[] = [];
  const repeated: FieldPlan[] = [];
  for (const spec of c.schema.fields) {
    const wire = wireTypeOf(spec);
    const rep = isRepeated(spec);
    const child = spec.kind === 'message' ? spec.message : undefined;
    const fp: FieldPlan = {
      name: spec.name,
      no: spec.no,
      kind: KIND[spec.kind],
      wire,
      repeated: rep,
      packable: rep && wire !== WireType.LengthDelimited,
      slot: rep ? repeated.length : -1,
      message: child && (() => planOf(child())),
    };
    if (rep) repeated.push(fp);
    byNumber[spec.no] = fp;
  }
  plan = { schema, create: messageClass(c.schema), byNumber, fieldNames: c.schema.fields.map((f) => f.name), repeated };
  plans.set(schema, plan);
  return plan;
}

/**
 * A class per message type whose constructor sets every field: objects of one type then share a
 * hidden class, and the decoder's stores update fields instead of adding them (adding properties
 * through one generic store site is what made decoding slow). Built from our own schema table's
 * field names, never from input.
 */
function messageClass(schema: MessageSchema): Plan['create'] {
  const names = [...schema.fields.map((f) => f.name), '$unknown'];
  for (const n of names) if (!/^[A-Za-z_$][\w$]*$/.test(n)) throw new Error(`bad field name ${n}`);
  const body = names.map((n) => `this.${n} = undefined;`).join(' ');
  return new Function('Base', `return class ${schema.name.replace(/\W/g, '_')} extends Base { constructor(b, s, e) { super(b, s, e); ${body} } };`)(Decoded);
}

// ------------------------------------------------------------ decoding

/**
 * Frozen messages make accidental mutation throw; freezing costs about a quarter of decoding
 * time, so it is on where correctness is checked (tests set ONNX_COMPRESS_FREEZE=1) and the
 * readonly types guard the rest.
 */
const FREEZE = typeof process !== 'undefined' && process.env.ONNX_COMPRESS_FREEZE === '1';

interface Context {
  readonly limits: DecodeLimits;
  /** The whole input, and the same memory as a Buffer for fast native string decoding. */
  readonly bytes: Uint8Array;
  readonly text: Buffer & { utf8Slice(start: number, end: number): string };
  /** One reader for the whole input; nested messages narrow its end and restore it. */
  readonly reader: WireReader;
  /** The messages being decoded, outermost first, for error messages. */
  /** Frames of the messages being decoded, outermost first; only read to describe an error. */
  readonly plans: Plan[];
  readonly outs: Record<string, unknown>[];
  readonly fields: string[];
  readonly indices: number[];
  depth: number;
  readonly rootPath: string;
  /** Messages decoded so far, and the most allowed. */
  messages: number;
  readonly maxMessages: number;
  /** One shared object per message type for empty repeated messages (count-only decoding). */
  readonly empties: Map<Plan, object>;
}

export function decodeMessage<T>(
  schema: MessageSchema,
  bytes: Uint8Array,
  rootPath: string,
  limits: DecodeLimits = defaultDecodeLimits,
): T {
  // A plain Uint8Array view: Buffer's own subarray is several times slower.
  const plain = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // utf8Slice is Buffer's native decoder without toString's argument handling.
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as Context['text'];

  const reader = new WireReader(plain, 0, plain.length, () => describe(ctx));
  const budget = limits.messages ?? defaultDecodeLimits.messages;
  const maxMessages = budget.base + Math.floor(plain.length / budget.bytesPerMessage);
  const ctx: Context = { limits, bytes: plain, text, reader, plans: [], outs: [], fields: [], indices: [], depth: 0, rootPath, messages: 0, maxMessages, empties: new Map() };
  return decodeInto(planOf(schema), plain.length, ctx, '', -1) as T;
}

/**
 * Decodes the message from the reader's position up to `end`. `field` and `index` say where it
 * sits in its parent (index -1 for a singular field), kept apart so no name is built unless an
 * error needs one.
 */
function decodeInto(plan: Plan, end: number, ctx: Context, field: string, index: number): object {
  const { reader, bytes } = ctx;
  countMessage(ctx);
  const start = reader.pos;
  const out = new plan.create(bytes, start, end);
  const depth = ctx.depth++;
  ctx.plans[depth] = plan;
  ctx.outs[depth] = out;
  ctx.fields[depth] = field;
  ctx.indices[depth] = index;
  if (ctx.depth > ctx.limits.maxDepth) {
    throw new OnnxError('limit', `messages nest deeper than ${ctx.limits.maxDepth} levels`, describe(ctx));
  }
  const outerEnd = reader.end;
  reader.end = end;
  const lists: (unknown[] | undefined)[] = plan.repeated.length ? new Array(plan.repeated.length) : (EMPTY as never[]);
  let unknown: UnknownField[] | undefined;

  while (reader.pos < end) {
    const fieldStart = reader.pos;
    // Tags of ONNX fields fit one or two bytes; the general varint reader handles the rest.
    const b0 = bytes[fieldStart];
    let tag: number;
    if (b0 < 0x80) {
      tag = b0;
      reader.pos = fieldStart + 1;
    } else {
      tag = reader.smallVarint('field tag');
    }
    const no = tag > 0x7fffffff ? Math.floor(tag / 8) : tag >>> 3;
    const wire = tag & 7;
    if (no === 0) reader.fail('corrupt', 'field number 0 is invalid');
    const f = plan.byNumber[no];
    if (f === undefined) {
      reader.skip(wire);
      (unknown ??= []).push({ no, bytes: bytes.subarray(fieldStart, reader.pos) });
      continue;
    }
    if (wire !== f.wire && !(f.packable && wire === WireType.LengthDelimited)) {
      reader.fail('corrupt', `field ${f.name} (${no}) has wire type ${wire}, expected ${f.wire}`);
    }
    let value: unknown;
    if (f.kind === Kind.Payload) {
      // Keep the encoded values as they are: a packed run or a single value.
      value = wire === WireType.LengthDelimited ? reader.lengthDelimited(f.name) : takeOne(reader, wire);
    } else if (f.packable && wire === WireType.LengthDelimited) {
      const runStart = reader.delimitedStart(f.name);
      const runEnd = reader.pos;
      const list = (lists[f.slot] ??= []);
      reader.pos = runStart;
      reader.end = runEnd;
      while (reader.pos < runEnd) list.push(readScalar(reader, f, ctx));
      reader.end = end;
      continue;
    } else if (f.kind === Kind.Message) {
      const at = reader.delimitedStart(f.name);
      const childEnd = reader.pos;
      const childPlan = f.message!();
      const shared = at === childEnd ? ctx.empties.get(childPlan) : undefined;
      if (shared) {
        // Another empty message of a type seen empty before: count it, share the object.
        countMessage(ctx);
        value = shared;
      } else {
        reader.pos = at;
        value = decodeInto(childPlan, childEnd, ctx, f.name, f.repeated ? (lists[f.slot]?.length ?? 0) : -1);
        reader.pos = childEnd;
        if (at === childEnd) ctx.empties.set(childPlan, Object.freeze(value));
      }
    } else {
      value = readScalar(reader, f, ctx);
    }
    if (f.repeated) {
      const list = lists[f.slot];
      if (list) list.push(value);
      else lists[f.slot] = [value];
    } else {
      out[f.name] = value;
    }
  }

  const repeated = plan.repeated;
  for (let i = 0; i < repeated.length; i++) {
    const list = lists[i];
    out[repeated[i].name] = list ? (FREEZE ? Object.freeze(list) : list) : EMPTY;
  }
  if (unknown) out.$unknown = unknown;
  reader.end = outerEnd;
  ctx.depth--;
  return FREEZE ? Object.freeze(out) : out;
}

function countMessage(ctx: Context): void {
  if (++ctx.messages <= ctx.maxMessages) return;
  throw new OnnxError(
    'limit',
    `holds more than ${ctx.maxMessages.toLocaleString('en-US')} messages and strings in ${ctx.bytes.length.toLocaleString('en-US')} bytes; no real model packs them this densely`,
    describe(ctx),
  );
}

function takeOne(reader: WireReader, wire: number): Uint8Array {
  const start = reader.pos;
  reader.skip(wire);
  return reader.bytes.subarray(start, reader.pos);
}

function readScalar(reader: WireReader, f: FieldPlan, ctx: Context): unknown {
  switch (f.kind) {
    case Kind.Int64:
      return toSigned64(reader.varint());
    case Kind.Uint64:
      return reader.varint();
    case Kind.Int32:
      return toSigned32(reader.varint());
    case Kind.Bool:
      return reader.varint() !== 0;
    case Kind.Float: {
      const b = reader.fixed32();
      return new DataView(b.buffer, b.byteOffset, 4).getFloat32(0, true);
    }
    case Kind.Double: {
      const b = reader.fixed64();
      return new DataView(b.buffer, b.byteOffset, 8).getFloat64(0, true);
    }
    case Kind.String: {
      // Strings and byte strings are objects too: 20 million one-byte names would cost gigabytes.
      countMessage(ctx);
      const at = reader.delimitedStart(f.name);
      return ctx.text.utf8Slice(at, reader.pos);
    }
    case Kind.Bytes:
      countMessage(ctx);
      return reader.lengthDelimited(f.name);
    default:
      throw new Error(`unreachable kind ${f.kind}`);
  }
}

/** `model.graph.node[3] 'conv1'.attribute[0]`: the path to the message being decoded. */
function describe(ctx: Context): string {
  let path = ctx.rootPath;
  for (let d = 0; d < ctx.depth; d++) {
    const field = ctx.fields[d];
    if (field) path += ctx.indices[d] >= 0 ? `.${field}[${ctx.indices[d]}]` : `.${field}`;
    const label = ctx.plans[d].schema.label?.(ctx.outs[d]);
    if (label) path += ` ${label}`;
  }
  return path;
}

export type { Int64 };
