/**
 * Protobuf wire format, read and written by hand: the layer under the ONNX schema.
 * Reading never copies payloads; length-delimited values come back as subarray views.
 */
import { OnnxError, formatCount } from '../errors';

export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  LengthDelimited = 2,
  StartGroup = 3,
  EndGroup = 4,
  Fixed32 = 5,
}

/** A signed or unsigned 64-bit integer: a number while it is exact, a bigint beyond that. */
export type Int64 = number | bigint;

const TWO_POW_32 = 4294967296;

export class WireReader {
  pos: number;

  constructor(
    readonly bytes: Uint8Array,
    start: number,
    /** Where the current message ends; the decoder narrows it for nested messages. */
    public end: number,
    /** Names the message being read, for error messages; filled in lazily. */
    readonly where: () => string,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  fail(code: 'truncated' | 'corrupt', what: string): never {
    throw new OnnxError(code, `${what} (at byte ${formatCount(this.pos)})`, this.where());
  }

  /** Reads a varint as unsigned; returns a number while exact, else a bigint. */
  varint(): Int64 {
    const bytes = this.bytes;
    let pos = this.pos;
    // Fast path: up to 4 bytes (28 bits) fits a 32-bit int comfortably.
    let result = 0;
    let shift = 0;
    for (let i = 0; i < 4; i++) {
      if (pos >= this.end) this.fail('truncated', 'varint runs past the end');
      const b = bytes[pos++];
      result |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return result >>> 0;
      }
      shift += 7;
    }
    // Slow path: collect the rest as a bigint.
    let big = BigInt(result >>> 0);
    let bigShift = 28n;
    for (let i = 4; i < 10; i++) {
      if (pos >= this.end) this.fail('truncated', 'varint runs past the end');
      const b = bytes[pos++];
      big |= BigInt(b & 0x7f) << bigShift;
      if (b < 0x80) {
        this.pos = pos;
        big &= 0xffffffffffffffffn;
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      bigShift += 7n;
    }
    this.fail('corrupt', 'varint longer than 10 bytes');
  }

  /** A varint that must fit a non-negative safe integer (tags, lengths). */
  smallVarint(what: string): number {
    const v = this.varint();
    if (typeof v !== 'number') this.fail('corrupt', `${what} ${v} is too large`);
    return v;
  }

  fixed32(): Uint8Array {
    return this.take(4, 'fixed32 value');
  }

  fixed64(): Uint8Array {
    return this.take(8, 'fixed64 value');
  }

  lengthDelimited(what: string): Uint8Array {
    const length = this.smallVarint(`length of ${what}`);
    return this.take(length, what);
  }

  /**
   * Skips a length-delimited value without making a view of it (views cost more than the
   * bytes they show for small values); returns where it starts and ends.
   */
  delimitedStart(what: string): number {
    const length = this.smallVarint(`length of ${what}`);
    if (length > this.end - this.pos) {
      this.fail('truncated', `${what} is ${formatCount(length)} bytes but only ${formatCount(this.end - this.pos)} remain`);
    }
    const start = this.pos;
    this.pos += length;
    return start;
  }

  take(length: number, what: string): Uint8Array {
    if (length > this.end - this.pos) {
      this.fail(
        'truncated',
        `${what} is ${formatCount(length)} bytes but only ${formatCount(this.end - this.pos)} remain`,
      );
    }
    const view = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  /** Skips one value of the given wire type; groups are refused (ONNX never uses them). */
  skip(wireType: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint();
        return;
      case WireType.Fixed64:
        this.take(8, 'fixed64 value');
        return;
      case WireType.LengthDelimited:
        this.lengthDelimited('field');
        return;
      case WireType.Fixed32:
        this.take(4, 'fixed32 value');
        return;
      default:
        this.fail('corrupt', `wire type ${wireType} is not used by ONNX`);
    }
  }
}

/** Interprets an unsigned varint value as a two's-complement signed 64-bit integer. */
export function toSigned64(v: Int64): Int64 {
  if (typeof v === 'number') return v; // below 2^53: positive either way
  const signed = BigInt.asIntN(64, v);
  return signed >= BigInt(Number.MIN_SAFE_INTEGER) && signed <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(signed)
    : signed;
}

/** Interprets an unsigned varint as a signed 32-bit integer (protobuf sign-extends int32 to 64 bits). */
export function toSigned32(v: Int64): number {
  if (typeof v === 'number') return v | 0;
  return Number(BigInt.asIntN(32, v));
}

// ---------------------------------------------------------------- writing

export function varintSize(v: Int64): number {
  if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
    if (v < 0x80) return 1;
    if (v < 0x4000) return 2;
    if (v < 0x200000) return 3;
    if (v < 0x10000000) return 4;
    let n = 4;
    let rest = Math.floor(v / 0x10000000);
    while (rest > 0) {
      n++;
      rest = Math.floor(rest / 128);
    }
    return n;
  }
  let big = BigInt.asUintN(64, BigInt(v));
  let n = 1;
  while (big >= 0x80n) {
    big >>= 7n;
    n++;
  }
  return n;
}

/** Writes a varint (negative values as 10-byte two's complement) into out at pos; returns the new pos. */
export function writeVarint(out: Uint8Array, pos: number, v: Int64): number {
  if (typeof v === 'number' && v >= 0 && v <= 0xffffffff) {
    while (v >= 0x80) {
      out[pos++] = (v & 0x7f) | 0x80;
      v = v >>> 7;
    }
    out[pos++] = v;
    return pos;
  }
  if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
    let lo = v % TWO_POW_32;
    let hi = Math.floor(v / TWO_POW_32);
    while (hi > 0 || lo >= 0x80) {
      out[pos++] = (lo & 0x7f) | 0x80;
      lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
      hi = Math.floor(hi / 128);
    }
    out[pos++] = lo;
    return pos;
  }
  let big = BigInt.asUintN(64, BigInt(v));
  while (big >= 0x80n) {
    out[pos++] = Number(big & 0x7fn) | 0x80;
    big >>= 7n;
  }
  out[pos++] = Number(big);
  return pos;
}

export function tagOf(fieldNumber: number, wireType: WireType): number {
  return fieldNumber * 8 + wireType;
}
