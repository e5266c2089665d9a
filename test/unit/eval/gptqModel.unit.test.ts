/**
 * GPTQ end to end on a byte-level GPT (1.9M parameters): INT4 blocks of 32 by round to nearest and
 * by GPTQ (calibrated on 32 windows), as DequantizeLinear and as MatMulNBits, each run in
 * onnxruntime on held-out windows. The float model's perplexity is PyTorch's; GPTQ loses less
 * perplexity than round to nearest; every MatMul weight of the blocks is rewritten. Both methods
 * get the same layers, the MatMuls (round to nearest alone would also take the embeddings and
 * the causal mask, and the model with that mask quantized outputs NaN).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { parseNpz } from '../../../src/core/npy';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { ortCalibrator } from '../../../src/eval/ortCalibrator';
import { loadCalibrationFeeds } from '../../../src/eval/calibrationData';
import { LanguageModelMetrics } from '../../../src/eval/lmMetrics';
import type { TransformServices } from '../../../src/transforms/transform';
import { ort } from '../../helpers/ort';
import { repoRoot, tempDir } from '../../helpers/paths';

const GPT = path.join(repoRoot, 'test/fixtures/gpt');
const runner = new OrtProcess();
test.after(() => runner.dispose());

const services: TransformServices = {
  calibrator: (proto, settings) => {
    const { feeds, description } = loadCalibrationFeeds(proto, settings.data && path.resolve(GPT, settings.data), settings.samples, settings.shapes);
    return ortCalibrator(feeds, description, runner);
  },
};

async function perplexity(file: string): Promise<number> {
  const windows = parseNpz(fs.readFileSync(path.join(GPT, 'test-windows.npz'))).get('input_ids')!;
  const [samples, seq] = windows.shape;
  const ids = new BigInt64Array(windows.data.buffer.slice(windows.data.byteOffset, windows.data.byteOffset + windows.data.byteLength));
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'basic', intraOpNumThreads: 1 });
  try {
    const out = await session.run({ input_ids: new ort.Tensor('int64', ids, [samples, seq]) });
    const logits = out.logits.data as Float32Array;
    const metrics = new LanguageModelMetrics();
    metrics.add({ logits, samples, seq, vocab: logits.length / (samples * seq) }, undefined, Array.from(ids, Number));
    return metrics.result(false).candidate.perplexity;
  } finally {
    await session.release();
  }
}

test('GPTQ INT4 block 32 on a tiny GPT: less perplexity lost than round to nearest, as QDQ and as MatMulNBits', async () => {
  const dir = tempDir();
  const file = path.join(GPT, 'tiny-gpt.onnx');
  const reference = JSON.parse(fs.readFileSync(path.join(GPT, 'reference.json'), 'utf8')) as { perplexity: number };
  const fp32 = await perplexity(file);
  assert.ok(Math.abs(fp32 / reference.perplexity - 1) < 1e-3, `FP32 perplexity ${fp32} vs PyTorch's ${reference.perplexity}`);
  const model = openModel(file);
  const blockWeights = model.index.graphs.find((g) => g.kind === 'main')!.nodes.filter((n) => n.node.opType === 'MatMul').map((n) => n.node.input[1]).filter((w) => model.index.tensors.some((t) => t.isValue && t.name === w));
  assert.ok(blockWeights.length >= 4, `${blockWeights.length} MatMul weights`);
  const figures: string[] = [`FP32 ${fp32.toFixed(4)}`];
  for (const format of ['qdq', 'matmulnbits'] as const) {
    const results: Record<string, number> = {};
    for (const method of ['rtn', 'gptq'] as const) {
      const step = parseStep({ transform: 'quantize', layers: ['*MatMul'], dtype: 'int4', blockSize: 32, format, method, ...(method === 'gptq' ? { calibration: { data: 'calib-windows.npz', samples: 32 } } : {}) });
      const edit = await applyStep(stateOf(model.proto, path.dirname(file)), step, undefined, services);
      const changedWeights = new Set(edit.result.changed.flatMap((c) => c.tensors.map((t) => t.tensor)));
      for (const w of blockWeights) assert.ok(changedWeights.has(w), `${format} ${method}: '${w}' unchanged (${edit.result.skipped.map((s) => `${s.layer}: ${s.reason}`).join('; ')})`);
      if (method === 'gptq') {
        assert.match(edit.result.notes.join('\n'), /GPTQ calibrated \d+ layer input\(s\) on 32 samples/);
        assert.ok(edit.result.changed.every((c) => c.tensors.every((t) => t.detail?.method === 'gptq')));
      }
      const out = path.join(dir, `${format}-${method}.onnx`);
      await saveModel(edit.after, out);
      results[method] = await perplexity(out);
    }
    figures.push(`${format}: RTN ${results.rtn.toFixed(4)}, GPTQ ${results.gptq.toFixed(4)}`);
    assert.ok(results.gptq - fp32 < results.rtn - fp32, `${format}: GPTQ +${(results.gptq - fp32).toFixed(4)} vs RTN +${(results.rtn - fp32).toFixed(4)}`);
  }
  console.log(`perplexity on the held-out windows: ${figures.join('; ')}`);
});
