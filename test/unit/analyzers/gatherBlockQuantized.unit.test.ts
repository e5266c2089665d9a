/**
 * Quantized embeddings: with `format: "matmulnbits"` a Gather on a stored table becomes
 * onnxruntime's GatherBlockQuantized. onnxruntime's gathered rows equal the real values the
 * analysis unpacks (and the transform reports), for 4 and 8 bits, symmetric or not, and FLOAT16
 * tables; tables it cannot take (rows not whole blocks, shared with another node) are refused
 * with the reason.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { parseModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { attributeLayers } from '../../../src/analyzers/layers';
import { dequantizeParams } from '../../../src/analyzers/dequantizeParams';
import { readRealFloat32 } from '../../../src/analyzers/realValues';
import { storedAs } from '../../../src/analyzers/storedAs';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import { floatSourceTensor } from '../../../src/transforms/floatSource';
import { floatValues } from '../../../src/eval/floatOutputs';
import { encodeModel, graph, model, node, valueInfo } from '../../helpers/modelBuilder';
import { fixedFloats, ort } from '../../helpers/ort';
import { outputSqnr } from '../../helpers/transformRun';
import { tempDir } from '../../helpers/paths';

const ROWS = 20;
const IDS = [0, 3, 19, 7, 7, 12];

/** ids int64 [2, 3] → Gather(table [ROWS, cols]) → y [2, 3, cols]; `tied` adds a second Gather of the same table. */
function embeddingModel(cols: number, type = 1, tied = false): Uint8Array {
  const table = floatSourceTensor('table', type as 1, [ROWS, cols], fixedFloats(ROWS * cols, 5).map((v) => v * 0.1));
  const nodes = [node('Gather', ['table', 'ids'], ['y'], 'embed')];
  const outputs = [valueInfo('y', type, [2, 3, cols])];
  if (tied) {
    nodes.push(node('Gather', ['table', 'ids'], ['y2'], 'embed2'));
    outputs.push(valueInfo('y2', type, [2, 3, cols]));
  }
  return encodeModel(model(graph(nodes, [table], [valueInfo('ids', 7, [2, 3])], outputs), 13, { irVersion: 8 }));
}

async function gathered(file: string): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 1 });
  const out = await session.run({ ids: new ort.Tensor('int64', BigInt64Array.from(IDS, BigInt), [2, 3]) });
  await session.release();
  return floatValues(out.y.type, out.y.data)!;
}

const CASES = [
  { name: 'INT4 asymmetric', cols: 64, step: { dtype: 'int4', symmetric: false, blockSize: 32 } },
  { name: 'INT4 symmetric, 3 blocks a row', cols: 48, step: { dtype: 'int4', symmetric: true, blockSize: 16 } },
  { name: 'INT4 asymmetric, 3 blocks a row (zero points padded)', cols: 96, step: { dtype: 'int4', symmetric: false, blockSize: 32 } },
  { name: 'INT8 asymmetric', cols: 64, step: { dtype: 'uint8', symmetric: false, blockSize: 32 } },
  { name: 'INT4, FLOAT16 table', cols: 64, type: 10, step: { dtype: 'int4', symmetric: false, blockSize: 32 } },
] as const;

for (const c of CASES) {
  test(`GatherBlockQuantized ${c.name}: onnxruntime gathers the rows the analysis unpacks`, async () => {
    const dir = tempDir();
    const type = 'type' in c ? c.type : 1;
    const state = stateOf(parseModel(embeddingModel(c.cols, type), { dir }).proto, dir);
    const edit = await applyStep(state, parseStep({ transform: 'quantize', granularity: 'block', format: 'matmulnbits', ...c.step }));
    assert.equal(edit.result.changed.length, 1, edit.result.skipped.map((s) => s.reason).join('; '));
    const op = edit.after.proto.graph!.node[0];
    assert.equal(op.opType, 'GatherBlockQuantized');
    assert.equal(op.domain, 'com.microsoft');
    assert.ok(!edit.after.index.tensors.some((t) => t.name === 'table'), 'the float table is gone');
    assert.ok(edit.result.bytesAfter < edit.result.bytesBefore * (c.step.dtype === 'int4' ? (type === 10 ? 0.5 : 0.3) : 0.6));

    // The analysis reads the packed table back as [rows, cols]: the values the transform measured.
    const layer = attributeLayers(edit.after.index).layers.find((l) => l.node.node.opType === 'GatherBlockQuantized')!;
    const data = layer.weights.find((t) => t.dims.length === 2 && t.dataType === 2)!;
    const real = await readRealFloat32(data, await dequantizeParams(data, layer.dequantized?.get(data)));
    assert.equal(real.length, ROWS * c.cols);
    assert.equal(storedAs(layer).op, 'GatherBlockQuantized');
    assert.match(storedAs(layer).label, new RegExp(`INT${c.step.dtype === 'int4' ? 4 : 8} block ${c.step.blockSize}`));
    const original = await readRealFloat32(state.index.tensors.find((x) => x.name === 'table')!, undefined);
    const reported = edit.result.changed[0].tensors[0].sqnrDb!;
    assert.ok(Math.abs(outputSqnr(original, real) - reported) < 0.01, `analysis ${outputSqnr(original, real)} dB, transform ${reported} dB`);
    assert.ok(reported > (c.step.dtype === 'int4' ? 15 : 35), `${reported} dB`);

    // onnxruntime's rows are those real values (dequantized in the table's type).
    const file = path.join(dir, 'gbq.onnx');
    await saveModel(edit.after, file);
    const rows = await gathered(file);
    const expected = Float32Array.from(IDS.flatMap((id) => Array.from(real.subarray(id * c.cols, (id + 1) * c.cols))));
    let worst = 0;
    for (let i = 0; i < rows.length; i++) worst = Math.max(worst, Math.abs(rows[i] - expected[i]));
    assert.ok(worst <= (type === 10 ? 1e-3 : 1e-6), `largest difference ${worst}`);
  });
}

test('GatherBlockQuantized refuses rows that are not whole blocks and tied tables, with the reason', async () => {
  const dir = tempDir();
  const ragged = await applyStep(stateOf(parseModel(embeddingModel(48), { dir }).proto, dir), parseStep({ transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 32, format: 'matmulnbits' }));
  assert.equal(ragged.result.changed.length, 0);
  assert.match(ragged.result.skipped[0].reason, /rows of 48 values are not whole blocks of 32/);
  const tied = await applyStep(stateOf(parseModel(embeddingModel(64, 1, true), { dir }).proto, dir), parseStep({ transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 32, format: 'matmulnbits' }));
  assert.equal(tied.result.changed.length, 0);
  assert.match(tied.result.skipped[0].reason, /shared with other nodes/);
});
