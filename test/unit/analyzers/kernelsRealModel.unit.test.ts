/**
 * The whole analysis of a real model with the WebAssembly kernels and with the plain JavaScript
 * they stand in for: the same statistics (histograms to the count), the same ranks, SQNR within
 * 0.1 dB (in fact within float64 summation order), the same code entropy.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { analyzeModel, type ModelAnalysis } from '../../../src/analyzers/modelAnalysis';
import { useKernels } from '../../../src/analyzers/wasm/kernelSwitch';
import { thirdPartyModels } from '../../helpers/paths';

async function analyze(file: string, kernels: boolean): Promise<ModelAnalysis> {
  useKernels(kernels);
  try {
    return await analyzeModel(openModel(file));
  } finally {
    useKernels(true);
  }
}

test('PP-OCRv4 det: the WebAssembly kernels give the JavaScript figures', async () => {
  const file = path.join(thirdPartyModels, 'ch_PP-OCRv4_det_infer.onnx');
  const [fast, plain] = [await analyze(file, true), await analyze(file, false)];
  assert.equal(fast.layers.length, plain.layers.length);
  let ranks = 0;
  fast.layers.forEach((layer, i) => {
    const other = plain.layers[i];
    layer.weights.forEach((w, k) => {
      const s = w.stats;
      const o = other.weights[k].stats;
      assert.equal(!s, !o, `${w.name}: statistics both ways`);
      if (!s || !o) return;
      assert.deepEqual(s.histogram, o.histogram, `${w.name} histogram`);
      assert.equal(s.min, o.min);
      assert.equal(s.max, o.max);
      assert.ok(Math.abs(s.std - o.std) <= 1e-9 * Math.abs(o.std), `${w.name} std`);
      assert.equal(s.zeroFraction, o.zeroFraction);
      assert.equal(s.nearZeroFraction, o.nearZeroFraction);
    });
    const r = layer.redundancy;
    const q = other.redundancy;
    assert.equal(!r, !q);
    if (!r || !q) return;
    assert.deepEqual([r.rank90, r.rank95, r.rank99, r.rank90Params], [q.rank90, q.rank95, q.rank99, q.rank90Params], `${layer.name} ranks`);
    if (r.rank90 !== null) ranks++;
    for (const key of ['int8SqnrDb', 'int4SqnrDb', 'int8PerTensorSqnrDb', 'int4PerTensorSqnrDb', 'uint8PerTensorSqnrDb', 'uint4PerTensorSqnrDb', 'cluster4SqnrDb', 'cluster16SqnrDb', 'cluster256SqnrDb'] as const) {
      const close = r[key] === q[key] || Math.abs(r[key] - q[key]) <= 1e-6;
      assert.ok(close, `${layer.name} ${key}: ${r[key]} vs ${q[key]}`);
    }
    assert.equal(r.int8MaxAbsError, q.int8MaxAbsError);
    assert.equal(r.int4MaxAbsError, q.int4MaxAbsError);
    assert.ok(Math.abs(r.entropyBitsInt8 - q.entropyBitsInt8) <= 1e-12, `${layer.name} entropy`);
    assert.equal(r.huffmanBytesInt8, q.huffmanBytesInt8);
  });
  assert.ok(ranks > 10, `ranks compared on ${ranks} layers`);
});
