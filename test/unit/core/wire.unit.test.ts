/** The protobuf wire layer: varints at their edges, in both directions. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { WireReader, toSigned32, toSigned64, varintSize, writeVarint, type Int64 } from '../../../src/core/protobuf/wire';
import { OnnxError } from '../../../src/core/errors';
import { parseModel } from '../../../src/core/onnx/model';
import { encodeModel, graph, model } from '../../helpers/modelBuilder';

function roundTrip(v: Int64): Int64 {
  const buf = new Uint8Array(10);
  const end = writeVarint(buf, 0, v);
  assert.equal(end, varintSize(v), `size of ${v}`);
  return new WireReader(buf, 0, end, () => 'test').varint();
}

test('varints round-trip from 0 to 2^64 - 1, and negatives as two\'s complement', () => {
  for (const v of [0, 1, 127, 128, 16383, 16384, 2 ** 28 - 1, 2 ** 28, 2 ** 32 - 1, 2 ** 32, 2 ** 35 + 5, Number.MAX_SAFE_INTEGER]) {
    assert.equal(roundTrip(v), v);
  }
  assert.equal(roundTrip(2n ** 64n - 1n), 2n ** 64n - 1n);
  assert.equal(roundTrip(2n ** 53n + 1n), 2n ** 53n + 1n);
  // int64 -1 is ten bytes on the wire and reads back as -1 once interpreted as signed.
  assert.equal(varintSize(-1), 10);
  assert.equal(toSigned64(roundTrip(-1)), -1);
  assert.equal(toSigned64(roundTrip(-(2 ** 40))), -(2 ** 40));
  assert.equal(toSigned64(roundTrip(9223372036854775807n)), 9223372036854775807n); // INT64_MAX, as Slice uses
  assert.equal(toSigned32(roundTrip(-5)), -5);
});

test('a varint cut short is truncated, not a crash', () => {
  assert.throws(() => new WireReader(Uint8Array.from([0x80, 0x80]), 0, 2, () => 'here').varint(), (e: unknown) => e instanceof OnnxError && e.code === 'truncated' && /here/.test(e.message));
});

test('fields from a newer ONNX at the top level are kept, not refused', () => {
  const bytes = encodeModel({ ...model(graph([])), $unknown: [{ no: 99, bytes: Uint8Array.from([0x98, 0x06, 0x01]) }] });
  // Put the unknown field first, where the sniffer looks.
  const reordered = Uint8Array.from([0x98, 0x06, 0x01, ...bytes.subarray(0, bytes.length - 3)]);
  const m = parseModel(reordered);
  assert.equal(m.proto.$unknown?.[0].no, 99);
});
