/**
 * Mutations of real model bytes for the fuzz test, each family seeded: byte-level (truncation,
 * bit flips, varint and length-field corruption) and structure-level (dims, data types, raw_data
 * sizes, external-data locations, names, nesting) through the core's own encoder.
 */
import { parseModel } from '../../src/core/onnx/model';
import { mapTensors } from '../../src/core/onnx/mapTensors';
import type { GraphProto, ModelProto, TensorProto } from '../../src/core/onnx/proto';
import { attribute, encodeModel, graph, model, node, tensor } from './modelBuilder';

export type Rand = () => number;

const int = (rand: Rand, n: number): number => Math.floor(rand() * n);
const pick = <T>(rand: Rand, items: readonly T[]): T => items[int(rand, items.length)];

export function truncate(bytes: Uint8Array, rand: Rand): Uint8Array {
  return bytes.slice(0, int(rand, bytes.length));
}

export function flipBits(bytes: Uint8Array, rand: Rand): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let k = 1 + int(rand, 8); k > 0; k--) out[int(rand, out.length)] ^= 1 << int(rand, 8);
  return out;
}

interface LengthField {
  /** Where the length varint starts and ends, and the content it delimits. */
  readonly at: number;
  readonly varintEnd: number;
  readonly end: number;
}

/** Length-delimited fields of a protobuf message, found by walking it (and every field that parses as a message). */
export function lengthFields(bytes: Uint8Array, start = 0, end = bytes.length, out: LengthField[] = [], depth = 0): LengthField[] | undefined {
  let pos = start;
  const varint = (): number | undefined => {
    let v = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= end) return undefined;
      const b = bytes[pos++];
      v += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return v;
    }
    return undefined;
  };
  const found: LengthField[] = [];
  while (pos < end) {
    const tag = varint();
    if (tag === undefined || tag >>> 3 === 0) return undefined;
    switch (tag & 7) {
      case 0:
        if (varint() === undefined) return undefined;
        break;
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const at = pos;
        const length = varint();
        if (length === undefined || pos + length > end) return undefined;
        found.push({ at, varintEnd: pos, end: pos + length });
        pos += length;
        break;
      }
      default:
        return undefined;
    }
  }
  if (pos !== end) return undefined;
  out.push(...found);
  if (depth < 12) for (const f of found) if (f.end > f.varintEnd) lengthFields(bytes, f.varintEnd, f.end, out, depth + 1);
  return out;
}

function encodeVarint(v: number): number[] {
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** One length field set to a nearby, zero, huge or over-long value. */
export function corruptLength(bytes: Uint8Array, fields: readonly LengthField[], rand: Rand): Uint8Array {
  const f = pick(rand, fields);
  const length = f.end - f.varintEnd;
  const value = pick(rand, [0, length + 1, Math.max(0, length - 1), length * 2 + 7, 2 ** 31 - 1, 2 ** 32 + 5, 2 ** 35 - 1, int(rand, 1 << 20)]);
  return Uint8Array.from([...bytes.subarray(0, f.at), ...encodeVarint(value), ...bytes.subarray(f.varintEnd)]);
}

/** A varint made longer than 10 bytes, or its continuation bits set where they end. */
export function corruptVarint(bytes: Uint8Array, fields: readonly LengthField[], rand: Rand): Uint8Array {
  const f = pick(rand, fields);
  if (rand() < 0.5) return Uint8Array.from([...bytes.subarray(0, f.at), ...new Array(11 + int(rand, 4)).fill(0xff), 0x01, ...bytes.subarray(f.varintEnd)]);
  const out = Uint8Array.from(bytes);
  out[f.varintEnd - 1] |= 0x80;
  return out;
}

const HOSTILE_DIMS: readonly (readonly (number | bigint)[])[] = [
  [-1], [-5, 3], [0], [2 ** 31, 2 ** 31, 2 ** 31], [2n ** 62n], [-(2n ** 63n)], [1e9, 1e9], [3, 0, 2 ** 40], new Array(100).fill(2), [2 ** 53 + 1],
];
const HOSTILE_TYPES = [-1, 0, 8, 17, 23, 40, 99, 2 ** 31 - 1];

function mapOneTensor(proto: ModelProto, rand: Rand, fn: (t: TensorProto) => TensorProto): ModelProto {
  let count = 0;
  mapTensors(proto, (t) => (count++, t));
  if (count === 0) return proto;
  const target = int(rand, count);
  let i = 0;
  return mapTensors(proto, (t) => (i++ === target ? fn(t) : t));
}

/** Structure-level mutations of a decoded model, re-encoded. */
export const structural: Record<string, (proto: ModelProto, rand: Rand) => ModelProto> = {
  dims: (p, rand) => mapOneTensor(p, rand, (t) => ({ ...t, dims: [...pick(rand, HOSTILE_DIMS)] })),
  dataType: (p, rand) => mapOneTensor(p, rand, (t) => ({ ...t, dataType: pick(rand, HOSTILE_TYPES) })),
  rawDataSize: (p, rand) =>
    mapOneTensor(p, rand, (t) => {
      const raw = t.rawData ?? new Uint8Array(4);
      const size = pick(rand, [0, 1, raw.length - 1, raw.length + 1, raw.length * 2]);
      const data = new Uint8Array(Math.max(0, size));
      data.set(raw.subarray(0, data.length));
      return { ...t, rawData: data, floatData: [], int32Data: [], int64Data: [] };
    }),
  external: (p, rand) =>
    mapOneTensor(p, rand, (t) => ({
      ...t,
      rawData: undefined,
      dataLocation: 1,
      externalData: [
        { key: 'location', value: pick(rand, ['../outside.bin', '/etc/passwd', 'C:\\w.bin', 'a\0b', 'sub\\..\\..\\x', 'missing.bin', 'inside.bin', '..w.bin', 'link.bin']) },
        ...(rand() < 0.5 ? [{ key: 'offset', value: pick(rand, ['-1', '0', '99999999999', '1e3', ' 4', '18446744073709551616']) }] : []),
        ...(rand() < 0.5 ? [{ key: 'length', value: pick(rand, ['-8', '0', '4', '99999999999', 'x']) }] : []),
        ...(rand() < 0.2 ? [{ key: 'location', value: 'inside.bin' }] : []),
      ],
    })),
  hugeName: (p, rand) => mapOneTensor(p, rand, (t) => ({ ...t, name: `\x1b[31m${'n'.repeat(1 << (10 + int(rand, 13)))}` })),
  hugeDocString: (p, rand) => ({ ...p, docString: 'd'.repeat(1 << (10 + int(rand, 13))) }),
};

/** A model whose If nodes nest `depth` subgraphs deep. */
export function nestedModel(depth: number): Uint8Array {
  let g: GraphProto = graph([node('Relu', ['c'], ['o'])], [tensor('c', 1, [1], new Uint8Array(4))]);
  for (let i = 0; i < depth; i++) g = graph([node('If', ['c'], ['o'], `if${i}`, [attribute('then_branch', { g, type: 5 })])]);
  return encodeModel(model(g));
}

const decoded = new WeakMap<Uint8Array, ModelProto>();

/** `original` is a model from `dir` (its external data is found there); decoded once, then mutated per case. */
export function structuralCase(original: Uint8Array, dir: string, family: string, rand: Rand): Uint8Array {
  let proto = decoded.get(original);
  if (!proto) decoded.set(original, (proto = parseModel(original, { dir }).proto));
  return encodeModel(structural[family](proto, rand));
}
