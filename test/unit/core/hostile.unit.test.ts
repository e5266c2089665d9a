/**
 * Bad input: truncated, corrupt, non-ONNX and hostile files give an OnnxError that names the
 * problem; never another exception, a hang or a huge allocation.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OnnxError } from '../../../src/core/errors';
import { openModel, parseModel } from '../../../src/core/onnx/model';
import { fixtureModels, tempDir } from '../../helpers/paths';
import { attribute, encodeModel, graph, model, node, tensor } from '../../helpers/modelBuilder';
import type { GraphProto } from '../../../src/core/onnx/proto';

function rejects(bytes: Uint8Array, code: string, message: RegExp, dir?: string): void {
  assert.throws(
    () => parseModel(bytes, { dir }),
    (e: unknown) => {
      assert.ok(e instanceof OnnxError, `an OnnxError, got ${e}`);
      assert.equal(e.code, code, e.message);
      assert.match(e.message, message);
      return true;
    },
  );
}

test('a truncated model is refused at every cut, naming where', () => {
  const bytes = fs.readFileSync(path.join(fixtureModels, 'mlp_everything.onnx'));
  for (let cut = 0; cut < bytes.length; cut++) {
    try {
      parseModel(bytes.subarray(0, cut));
    } catch (e) {
      assert.ok(e instanceof OnnxError, `cut at ${cut}: ${e}`);
      continue;
    }
    // A cut exactly between two top-level fields is a valid (smaller) protobuf; nothing else is.
  }
  rejects(bytes.subarray(0, bytes.length - 10), 'truncated', /remain|past the end/);
});

test('raw_data that disagrees with dims names the tensor and both sizes', () => {
  const bad = tensor('conv1.weight', 1, [4, 4, 4, 4, 4], new Uint8Array(1024));
  rejects(encodeModel(model(graph([], [bad]))), 'shape-mismatch', /'conv1\.weight'.*raw_data is 1,024 bytes but dims \[4, 4, 4, 4, 4\] of FLOAT say 4,096/);
});

test('absurd or negative dims are refused before allocating', () => {
  const huge = tensor('huge', 1, [2 ** 30, 2 ** 30, 2 ** 30], new Uint8Array(4));
  rejects(encodeModel(model(graph([], [huge]))), 'limit', /'huge'.*elements/);
  const negative = tensor('neg', 1, [-1, 4], new Uint8Array(0));
  rejects(encodeModel(model(graph([], [negative]))), 'corrupt', /'neg'.*-1/);
});

test('a recursion bomb of nested subgraphs hits the depth limit', () => {
  let g: GraphProto = graph([]);
  for (let i = 0; i < 200; i++) g = graph([node('If', ['c'], ['o'], `if${i}`, [attribute('then_branch', { g, type: 5 })])]);
  rejects(encodeModel(model(g)), 'limit', /nest deeper than 100/);
});

test('files that are not ONNX are named for what they look like', () => {
  rejects(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'not-onnx', /PNG/);
  rejects(Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 0, 0]), 'not-onnx', /ZIP/);
  rejects(new TextEncoder().encode('{"model": 1}'), 'not-onnx', /JSON/);
  rejects(new Uint8Array(0), 'not-onnx', /empty/);
  rejects(Uint8Array.from([0x1c, 0x00, 0x00, 0x00, 0x4f, 0x52, 0x54, 0x4d]), 'not-onnx', /\.ort/);
  rejects(Uint8Array.from([0x08, 0x08, 0x12, 0x03, 0x61, 0x62, 0x63]), 'not-onnx', /no graph/);
});

test('a varint longer than 10 bytes is corrupt', () => {
  rejects(Uint8Array.from([0x08, ...new Array(11).fill(0xff), 0x01]), 'corrupt', /longer than 10 bytes/);
});

function externalModel(location: string, extra: { key: string; value: string }[] = []): Uint8Array {
  const t = tensor('w', 1, [4], undefined, {
    dataLocation: 1,
    externalData: [{ key: 'location', value: location }, ...extra],
  });
  return encodeModel(model(graph([node('Relu', ['w'], ['y'])], [t])));
}

test('external data paths that leave the model folder are refused', () => {
  const dir = tempDir();
  const inner = path.join(dir, 'models');
  fs.mkdirSync(inner);
  fs.writeFileSync(path.join(dir, 'secret.bin'), new Uint8Array(16));
  rejects(externalModel('../secret.bin'), 'external-data', /leaves the model's folder/, inner);
  rejects(externalModel('/etc/passwd'), 'external-data', /absolute/, inner);
  rejects(externalModel('C:\\weights.bin'), 'external-data', /absolute/, inner);
  fs.symlinkSync(path.join(dir, 'secret.bin'), path.join(inner, 'link.bin'));
  rejects(externalModel('link.bin'), 'external-data', /symbolic link/, inner);
  rejects(externalModel('missing.bin'), 'external-data', /cannot be read \(ENOENT\)/, inner);
  fs.writeFileSync(path.join(inner, 'short.bin'), new Uint8Array(8));
  rejects(externalModel('short.bin'), 'shape-mismatch', /8 bytes but dims say 16/, inner);
  fs.writeFileSync(path.join(inner, 'ok.bin'), new Uint8Array(16));
  assert.equal(parseModel(externalModel('ok.bin'), { dir: inner }).index.tensors[0].storage.kind, 'external');
  // A NUL byte, Windows separators climbing out, and ranges outside the file are refused too.
  for (const [location, extra] of [
    ['ok.bin\0../../secret.bin', []],
    ['..\\secret.bin', []],
    ['ok.bin', [{ key: 'offset', value: '-4' }]],
    ['ok.bin', [{ key: 'length', value: '-16' }]],
    ['ok.bin', [{ key: 'offset', value: '8' }]],
    ['ok.bin', [{ key: 'offset', value: '99999999999999999999' }]],
  ] as [string, { key: string; value: string }[]][]) {
    assert.throws(() => parseModel(externalModel(location, extra), { dir: inner }), (e: unknown) => e instanceof OnnxError, `${JSON.stringify(location)} ${JSON.stringify(extra)}`);
  }
});

test('a name that merely starts with two dots stays inside; two location keys are refused as onnxruntime does', () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, '..w.bin'), new Uint8Array(16));
  assert.equal(parseModel(externalModel('..w.bin'), { dir }).index.tensors[0].storage.kind, 'external');
  fs.writeFileSync(path.join(dir, 'ok.bin'), new Uint8Array(16));
  rejects(externalModel('ok.bin', [{ key: 'location', value: '..w.bin' }]), 'external-data', /'location' is given 2 times/, dir);
  rejects(externalModel('ok.bin', [{ key: 'offset', value: '0' }, { key: 'offset', value: '4' }]), 'external-data', /'offset' is given 2 times/, dir);
});

test('random corruption of a real model never escapes as anything but an OnnxError', () => {
  const original = fs.readFileSync(path.join(fixtureModels, 'control_flow.onnx'));
  let seed = 7;
  const rand = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  let refused = 0;
  for (let i = 0; i < 2000; i++) {
    const bytes = Uint8Array.from(original);
    for (let k = 0; k < 1 + rand(4); k++) bytes[rand(bytes.length)] = rand(256);
    try {
      parseModel(bytes, { dir: tempDir() });
    } catch (e) {
      assert.ok(e instanceof OnnxError, `iteration ${i}: ${(e as Error).stack}`);
      refused++;
    }
  }
  assert.ok(refused > 100, `most corruptions are caught (${refused})`);
});

test('a model file that does not exist or is a folder gives an io error', () => {
  assert.throws(() => openModel('/nonexistent/model.onnx'), (e: unknown) => e instanceof OnnxError && e.code === 'io' && /ENOENT/.test(e.message));
  assert.throws(() => openModel(tempDir()), (e: unknown) => e instanceof OnnxError && e.code === 'io');
});

test('a Constant with a mismatched tensor is reported with its node', () => {
  const bad = attribute('value', { t: tensor('', 1, [3], new Uint8Array(8)), type: 4 });
  rejects(encodeModel(model(graph([node('Constant', [], ['c'], 'my_const', [bad])]))), 'shape-mismatch', /node\[0\].*'value'.*8 bytes/);
});

/** A model whose graph holds `n` empty messages of graph field `field` (1: node, 5: initializer). */
function emptyMessages(field: number, n: number): Uint8Array {
  const inner = new Uint8Array(2 * n);
  for (let i = 0; i < n; i++) inner[2 * i] = (field << 3) | 2;
  const length: number[] = [];
  for (let v = inner.length; ; v = Math.floor(v / 128)) {
    if (v < 0x80) {
      length.push(v);
      break;
    }
    length.push((v & 0x7f) | 0x80);
  }
  // ir_version 8, graph (field 7), opset_import { version 13 }
  return Buffer.concat([Buffer.from([0x08, 0x08, 0x3a, ...length]), inner, Buffer.from([0x42, 0x02, 0x10, 0x0d])]);
}

test('millions of tiny messages hit a named limit instead of costing gigabytes', () => {
  // 10 million empty NodeProtos in 20 MB: more messages than a model of that size can hold.
  rejects(emptyMessages(1, 10_000_000), 'limit', /holds more than 2,312,500 messages and strings in 20,000,011 bytes/);
  rejects(emptyMessages(5, 10_000_000), 'limit', /messages and strings in 20,000,011 bytes/);
});

test('repeated empty messages are counted, not each decoded into its own object', () => {
  const m = parseModel(emptyMessages(13, 1000)); // 1,000 empty value_info entries
  const infos = m.proto.graph!.valueInfo;
  assert.equal(infos.length, 1000);
  assert.equal(infos[0], infos[999], 'one shared object for every empty entry');
});

test('millions of one-byte strings hit the same limit', () => {
  // One node whose input list holds 7 million one-byte names (21 MB).
  const n = 7_000_000;
  const names = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) names.set([0x0a, 0x01, 0x61], 3 * i);
  const varint = (v: number): number[] => (v < 0x80 ? [v] : [(v & 0x7f) | 0x80, ...varint(Math.floor(v / 128))]);
  const nodeBytes = Buffer.concat([names, Buffer.from([0x22, 0x04, 0x52, 0x65, 0x6c, 0x75])]); // + op_type "Relu"
  const graphBytes = Buffer.concat([Buffer.from([0x0a, ...varint(nodeBytes.length)]), nodeBytes]);
  const bytes = Buffer.concat([Buffer.from([0x08, 0x08, 0x3a, ...varint(graphBytes.length)]), graphBytes, Buffer.from([0x42, 0x02, 0x10, 0x0d])]);
  rejects(bytes, 'limit', /messages and strings in 21,0\d\d,\d\d\d bytes/);
});
