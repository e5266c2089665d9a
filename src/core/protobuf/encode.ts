/**
 * Schema-driven protobuf encoding into a list of byte chunks (never one big copy).
 * A message that was decoded and never edited is emitted as its original bytes; big byte
 * fields (raw_data) are emitted as the views they are. Unknown fields go back in field-number
 * order among the known ones, which is where protobuf serializers put them.
 */
import { WireType, tagOf, writeVarint, type Int64 } from './wire';
import { compile, isRepeated, type FieldSpec, type MessageSchema, type UnknownField } from './schema';
import { sourceOf } from './decode';

const INLINE_LIMIT = 256;

/** Accumulates output as parts; small writes are coalesced into shared blocks. */
export class ChunkSink {
  readonly parts: Uint8Array[] = [];
  length = 0;
  private block = new Uint8Array(0);
  private pos = 0;

  private reserve(n: number): void {
    if (this.block.length - this.pos < n) {
      this.flush();
      this.block = new Uint8Array(Math.max(n, 8192));
    }
  }

  flush(): void {
    if (this.pos > 0) {
      this.parts.push(this.block.subarray(0, this.pos));
      this.block = this.block.subarray(this.pos);
      this.pos = 0;
    }
  }

  varint(v: Int64): void {
    this.reserve(10);
    const end = writeVarint(this.block, this.pos, v);
    this.length += end - this.pos;
    this.pos = end;
  }

  tag(no: number, wire: WireType): void {
    this.varint(tagOf(no, wire));
  }

  fixed32(v: number): void {
    this.reserve(4);
    new DataView(this.block.buffer, this.block.byteOffset + this.pos, 4).setFloat32(0, v, true);
    this.pos += 4;
    this.length += 4;
  }

  fixed64(v: number): void {
    this.reserve(8);
    new DataView(this.block.buffer, this.block.byteOffset + this.pos, 8).setFloat64(0, v, true);
    this.pos += 8;
    this.length += 8;
  }

  bytes(view: Uint8Array): void {
    if (view.length <= INLINE_LIMIT) {
      this.reserve(view.length);
      this.block.set(view, this.pos);
      this.pos += view.length;
    } else {
      this.flush();
      this.parts.push(view);
    }
    this.length += view.length;
  }

  append(other: ChunkSink): void {
    other.flush();
    if (other.parts.length === 1) {
      this.bytes(other.parts[0]);
      return;
    }
    this.flush();
    for (const p of other.parts) this.parts.push(p);
    this.length += other.length;
  }

  finish(): Uint8Array[] {
    this.flush();
    return this.parts;
  }
}

const utf8 = new TextEncoder();

/** Encodes a message's content (no tag, no length) into a new sink. */
export function encodeMessage(schema: MessageSchema, message: object): ChunkSink {
  const sink = new ChunkSink();
  const original = sourceOf(message);
  if (original) {
    sink.bytes(original);
    return sink;
  }
  const c = compile(schema);
  const record = message as Record<string, unknown>;
  const unknown = (record.$unknown as readonly UnknownField[] | undefined) ?? [];
  let u = 0;
  for (const spec of c.ordered) {
    while (u < unknown.length && unknown[u].no < spec.no) sink.bytes(unknown[u++].bytes);
    const value = record[spec.name];
    if (value === undefined) continue;
    encodeField(sink, spec, value);
  }
  while (u < unknown.length) sink.bytes(unknown[u++].bytes);
  return sink;
}

function encodeField(sink: ChunkSink, spec: FieldSpec, value: unknown): void {
  if (spec.kind === 'payload') {
    const runs = value as readonly Uint8Array[];
    if (runs.length === 0) return;
    let total = 0;
    for (const r of runs) total += r.length;
    sink.tag(spec.no, WireType.LengthDelimited);
    sink.varint(total);
    for (const r of runs) sink.bytes(r);
    return;
  }
  if (isRepeated(spec)) {
    const list = value as readonly unknown[];
    if (list.length === 0) return;
    if (spec.kind !== 'message' && 'packed' in spec && spec.packed) {
      const body = new ChunkSink();
      for (const v of list) scalarValue(body, spec, v);
      sink.tag(spec.no, WireType.LengthDelimited);
      sink.varint(body.length);
      sink.append(body);
      return;
    }
    for (const v of list) single(sink, spec, v);
    return;
  }
  single(sink, spec, value);
}

function single(sink: ChunkSink, spec: FieldSpec, value: unknown): void {
  switch (spec.kind) {
    case 'message': {
      const body = encodeMessage(spec.message(), value as object);
      sink.tag(spec.no, WireType.LengthDelimited);
      sink.varint(body.length);
      sink.append(body);
      return;
    }
    case 'string':
    case 'bytes': {
      const bytes = typeof value === 'string' ? utf8.encode(value) : (value as Uint8Array);
      sink.tag(spec.no, WireType.LengthDelimited);
      sink.varint(bytes.length);
      sink.bytes(bytes);
      return;
    }
    case 'float':
      sink.tag(spec.no, WireType.Fixed32);
      sink.fixed32(value as number);
      return;
    case 'double':
      sink.tag(spec.no, WireType.Fixed64);
      sink.fixed64(value as number);
      return;
    default:
      sink.tag(spec.no, WireType.Varint);
      scalarValue(sink, spec, value);
  }
}

function scalarValue(sink: ChunkSink, spec: FieldSpec, value: unknown): void {
  switch (spec.kind) {
    case 'float':
      sink.fixed32(value as number);
      return;
    case 'double':
      sink.fixed64(value as number);
      return;
    case 'bool':
      sink.varint(value ? 1 : 0);
      return;
    default:
      sink.varint(value as Int64);
  }
}
