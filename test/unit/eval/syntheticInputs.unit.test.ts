/**
 * Synthetic inputs of every type, without hand-made files: token ids within the vocabulary of the
 * embedding table they index (read from the Gather's table, also behind a DequantizeLinear), an
 * attention mask of ones, int32, bool and float16 tensors, a scalar from --value; named dims from
 * --dim; onnxruntime accepts them all. Names that do not exist and inputs that still lack a shape
 * or value are errors that list the model's inputs; --limit sets the count the header says.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { syntheticDataset } from '../../../src/eval/syntheticData';
import { vocabularySizes } from '../../../src/eval/tokenRanges';
import { parseModel } from '../../../src/core/onnx/model';
import { DataType } from '../../../src/core/onnx/dataTypes';
import type { InputInfo } from '../../../src/eval/dataset';
import type { ValueInfoProto } from '../../../src/core/onnx/proto';
import { attribute, encodeModel, floatTensor, graph, model, node, tensor, valueInfo } from '../../helpers/modelBuilder';
import { repoRoot, tempDir } from '../../helpers/paths';

const VOCAB = 50;

/** A value whose dims are named symbols where a string is given. */
function symbolic(name: string, elemType: number, dims: (number | string)[]): ValueInfoProto {
  return { name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } }, metadataProps: [] };
}

/** ids → Gather(quantized table) and every other type cast to float, so each input reaches an output. */
function everyTypeModel(): Uint8Array {
  const table = tensor('table_q', DataType.Uint8, [VOCAB, 4], Uint8Array.from({ length: VOCAB * 4 }, (_, i) => i % 251));
  const cast = (input: string, output: string) => node('Cast', [input], [output], '', [attribute('to', { i: 1, type: 2 })]);
  const g = graph(
    [
      node('DequantizeLinear', ['table_q', 'scale', 'zero'], ['table']),
      node('Gather', ['table', 'input_ids'], ['embedded']),
      cast('attention_mask', 'mask_f'),
      cast('counts', 'counts_f'),
      cast('flags', 'flags_f'),
      cast('half', 'half_f'),
      cast('sr', 'sr_f'),
      cast('input_ids', 'ids_f'),
    ],
    [table, floatTensor('scale', [], [0.1]), tensor('zero', DataType.Uint8, [], new Uint8Array([3]))],
    [
      symbolic('input_ids', DataType.Int64, ['batch', 'sequence']),
      symbolic('attention_mask', DataType.Int64, ['batch', 'sequence']),
      symbolic('counts', DataType.Int32, ['batch', 3]),
      symbolic('flags', DataType.Bool, ['batch', 2]),
      symbolic('half', DataType.Float16, ['batch', 5]),
      valueInfo('sr', DataType.Int64, []),
    ],
    [
      symbolic('embedded', 1, ['batch', 'sequence', 4]),
      symbolic('mask_f', 1, ['batch', 'sequence']),
      symbolic('counts_f', 1, ['batch', 3]),
      symbolic('flags_f', 1, ['batch', 2]),
      symbolic('half_f', 1, ['batch', 5]),
      valueInfo('sr_f', 1, []),
      symbolic('ids_f', 1, ['batch', 'sequence']),
    ],
  );
  return encodeModel(model(g, 13));
}

const bytes = everyTypeModel();
const inputs: InputInfo[] = [
  { name: 'input_ids', type: 'int64', shape: ['batch', 'sequence'] },
  { name: 'attention_mask', type: 'int64', shape: ['batch', 'sequence'] },
  { name: 'counts', type: 'int32', shape: ['batch', 3] },
  { name: 'flags', type: 'bool', shape: ['batch', 2] },
  { name: 'half', type: 'float16', shape: ['batch', 5] },
  { name: 'sr', type: 'int64', shape: [] },
];

test('the vocabulary of the embedding a token input indexes, through a DequantizeLinear', () => {
  assert.deepEqual(vocabularySizes(parseModel(bytes).proto), { input_ids: VOCAB });
});

test("the vocabulary of onnxruntime's GatherBlockQuantized: its packed data's rows (a MatMulNBits LM's embedding)", () => {
  // 4-bit rows of 32 values pack into 16 bytes; the rows stay the vocabulary.
  const g = graph(
    [node('Reshape', ['input_ids', 'flat'], ['ids']), { ...node('GatherBlockQuantized', ['table_q4', 'ids', 'scales'], ['embedded'], '', [attribute('gather_axis', { i: 0, type: 2 }), attribute('block_size', { i: 32, type: 2 }), attribute('bits', { i: 4, type: 2 })]), domain: 'com.microsoft' }],
    [tensor('table_q4', DataType.Uint8, [VOCAB, 16], new Uint8Array(VOCAB * 16)), floatTensor('scales', [VOCAB, 1], new Array<number>(VOCAB).fill(0.1)), tensor('flat', DataType.Int64, [1], new Uint8Array(8))],
    [symbolic('input_ids', DataType.Int64, ['batch', 'seq'])],
    [symbolic('embedded', 1, ['n', 32])],
  );
  assert.deepEqual(vocabularySizes(parseModel(encodeModel(model(g, 13))).proto), { input_ids: VOCAB });
});

test('synthetic inputs of every type: ids in the vocabulary, a mask of ones, the scalar given', async () => {
  const spec = { kind: 'synthetic' as const, samples: 3, seed: 1, dims: { sequence: 200 }, values: { sr: 16000, counts: 7 } };
  const d = syntheticDataset(spec, inputs, { input_ids: VOCAB });
  assert.match(d.description, /input_ids: token ids in \[0, 50\) from its embedding table, counts = 7, sr = 16000/);
  const { feed } = await d.sample(1);
  const ids = feed.input_ids.data as BigInt64Array;
  assert.deepEqual(feed.input_ids.dims, [1, 200]);
  assert.ok(ids.every((v) => v >= 0n && v < BigInt(VOCAB)), 'ids within the vocabulary');
  assert.ok(new Set(ids).size > VOCAB / 2, 'ids spread over the vocabulary');
  assert.ok((feed.attention_mask.data as BigInt64Array).every((v) => v === 1n));
  assert.equal(feed.counts.type, 'int32');
  assert.deepEqual([...(feed.counts.data as Int32Array)], [7, 7, 7]);
  assert.equal(feed.flags.type, 'bool');
  assert.equal(feed.half.type, 'float16');
  assert.deepEqual(feed.sr.dims, []);
  assert.deepEqual([...(feed.sr.data as BigInt64Array)], [16000n]);
});

test('what is missing or misnamed is an error listing the inputs', () => {
  const listing = /inputs: input_ids \[batch, sequence\] int64; attention_mask \[batch, sequence\] int64; counts \[batch, 3\] int32; flags \[batch, 2\] bool; half \[batch, 5\] float16; sr \[\] int64/;
  const base = { kind: 'synthetic' as const, samples: 2, seed: 1 };
  assert.throws(() => syntheticDataset(base, inputs, { input_ids: VOCAB }), (e: Error) => /needs --dim sequence=N/.test(e.message) && /int64 scalar: give its value, e\.g\. --value sr=16000/.test(e.message) && /'counts' is int32 \[batch, 3\] and indexes no embedding table: give its value, e\.g\. --value counts=0/.test(e.message) && listing.test(e.message));
  assert.throws(() => syntheticDataset({ ...base, dims: { seq: 8 } }, inputs), (e: Error) => /--dim names no dim 'seq'; the model's named dims: batch, sequence/.test(e.message));
  assert.throws(() => syntheticDataset({ ...base, shapes: { ids: [1, 8] } }, inputs), (e: Error) => /--shape names 'ids', which is not an input of the model/.test(e.message) && listing.test(e.message));
  assert.throws(() => syntheticDataset({ ...base, values: { rate: 1 } }, inputs), (e: Error) => /--value names 'rate', which is not an input of the model/.test(e.message));
});

test('onnxruntime takes every synthetic input; --limit sets the count', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'every-type.onnx');
  fs.writeFileSync(file, bytes);
  const runner = new OrtProcess();
  try {
    const { result } = await runner.run({
      kind: 'evaluate', candidate: file, baseline: file, limit: 4, batchSize: 2, threads: 1, optimization: 'all',
      dataset: { kind: 'synthetic', samples: 32, seed: 1, dims: { sequence: 16 }, values: { sr: 8000, counts: 2 } },
    });
    assert.equal(result.samples, 4);
    assert.match(result.description, /^4 synthetic inputs/);
    const ids = result.tasks!.find((t) => t.name === 'embedded');
    assert.ok(ids, 'the Gather ran on the synthetic ids');
  } finally {
    runner.dispose();
  }
  const cli = path.join(repoRoot, 'dist/cli.js');
  const r = spawnSync(process.execPath, [cli, 'eval', file, '--limit', '4', '--dim', 'sequence=16', '--value', 'sr=8000', '--value', 'counts=2'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.split('\n')[0], /^4 synthetic inputs/);
  const labels = spawnSync(process.execPath, [cli, 'eval', file, '--labels', 'labels.npy'], { encoding: 'utf8' });
  assert.equal(labels.status, 2);
  assert.match(labels.stderr, /--labels goes with --data/);
  const shapeWithData = spawnSync(process.execPath, [cli, 'eval', file, '--data', 'x.npz', '--dim', 'sequence=4'], { encoding: 'utf8' });
  assert.equal(shapeWithData.status, 2);
  assert.match(shapeWithData.stderr, /--dim is an option of synthetic inputs; with --data the data gives the shapes/);
  const resizeAlone = spawnSync(process.execPath, [cli, 'eval', file, '--resize', '256'], { encoding: 'utf8' });
  assert.equal(resizeAlone.status, 2);
  assert.match(resizeAlone.stderr, /--resize prepares images: it goes with --images ROOT/);
});
