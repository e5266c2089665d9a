// Writes small ONNX files that cost a careless reader gigabytes (issue 19), to measure the reader on:
//   node scripts/hostile-models.mjs OUTDIR
//   /usr/bin/time -f '%e s %M KB' node dist/cli.js analyze OUTDIR/empty-nodes.onnx --no-redundancy
// empty-nodes.onnx: 10M empty NodeProtos (20 MB); empty-initializers.onnx: 10M empty TensorProtos (20 MB);
// one-element-initializers.onnx: 1M float tensors of one element each (~21 MB); one-byte-names.onnx:
// one node with 7M one-byte input names (21 MB).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';

const out = process.argv[2];
if (!out) {
  console.error('usage: node scripts/hostile-models.mjs OUTDIR');
  process.exit(2);
}
mkdirSync(out, { recursive: true });

function varint(v) {
  const bytes = [];
  while (v >= 0x80) {
    bytes.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}
const field = (no, content) => Buffer.concat([varint((no << 3) | 2), varint(content.length), content]);
// ir_version 8, the graph, opset_import { version 13 }
const modelOf = (graph) => Buffer.concat([Buffer.from([0x08, 0x08]), field(7, graph), Buffer.from([0x42, 0x02, 0x10, 0x0d])]);

function repeated(fieldNo, n) {
  const b = Buffer.alloc(2 * n);
  for (let i = 0; i < n; i++) b[2 * i] = (fieldNo << 3) | 2;
  return b;
}

writeFileSync(join(out, 'empty-nodes.onnx'), modelOf(repeated(1, 10_000_000)));
writeFileSync(join(out, 'empty-initializers.onnx'), modelOf(repeated(5, 10_000_000)));

const tensors = [];
for (let i = 0; i < 1_000_000; i++) {
  // dims [1], data_type FLOAT, name, raw_data of 4 bytes
  tensors.push(field(5, Buffer.concat([Buffer.from([0x08, 0x01, 0x10, 0x01]), field(8, Buffer.from(`t${i}`)), field(9, Buffer.alloc(4))])));
}
const relu = field(1, Buffer.concat([field(1, Buffer.from('t0')), field(2, Buffer.from('y')), field(4, Buffer.from('Relu'))]));
writeFileSync(join(out, 'one-element-initializers.onnx'), modelOf(Buffer.concat([relu, ...tensors])));

const names = Buffer.alloc(3 * 7_000_000);
for (let i = 0; i < 7_000_000; i++) names.set([0x0a, 0x01, 0x61], 3 * i);
writeFileSync(join(out, 'one-byte-names.onnx'), modelOf(field(1, Buffer.concat([names, field(4, Buffer.from('Relu'))]))));
console.log(`wrote 4 files to ${out}`);
