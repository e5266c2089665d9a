/**
 * The model-level size estimates keep their order: Huffman-coded INT8 is never above plain INT8
 * (an LSTM's recurrent weights, which are not its main weight, used to be counted at FLOAT there);
 * on an already-quantized model they are what the transforms would write (they said "as stored"
 * for every method, where re-quantizing an INT8 model to INT4 halves it).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as fs from 'node:fs';
import { openModel, parseModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { analyzeModel } from '../../../src/analyzers/modelAnalysis';
import { applyRecipe, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import type { ModelState } from '../../../src/transforms/transform';
import { repoRoot, tempDir, thirdPartyModels } from '../../helpers/paths';

const dir = tempDir();

test('INT8+Huffman ≤ INT8 ≤ FP16 on a recurrent model and a convolutional one', async () => {
  for (const file of ['silero_vad_legacy.onnx', 'hello_deepa.onnx']) {
    const { estimates: e } = await analyzeModel(openModel(path.join(thirdPartyModels, file)), { bins: 32 });
    assert.ok(e.huffmanInt8Bytes !== null && e.huffmanInt8Bytes > 0, file);
    assert.ok(e.huffmanInt8Bytes <= e.int8PerChannelBytes, `${file}: Huffman ${e.huffmanInt8Bytes} > INT8 ${e.int8PerChannelBytes}`);
    assert.ok(e.int8PerChannelBytes < e.float16Bytes && e.float16Bytes < e.storedBytes, file);
  }
});

const int8 = { transform: 'quantize', dtype: 'int8', granularity: 'per-channel', symmetric: true };
const int4 = { transform: 'quantize', dtype: 'int4', granularity: 'per-channel', symmetric: true };
const float16 = { transform: 'quantize', dtype: 'float16' };
const clusters16 = { transform: 'cluster', clusters: 16 };
const pruned = { transform: 'prune', sparsity: 0.5 };
const uint8PerTensor = { transform: 'quantize', dtype: 'uint8', granularity: 'per-tensor', symmetric: false };
const nbits = { transform: 'quantize', dtype: 'int4', format: 'matmulnbits', granularity: 'block', blockSize: 32, symmetric: false };

/** The model's weight bytes after applying `step` to `state` (as stored when no layer would change). */
async function weightBytesAfter(state: ModelState, step: Record<string, unknown>, name: string): Promise<number> {
  const [edit] = await applyRecipe(state, [parseStep(step)]);
  const file = path.join(dir, name);
  await saveModel(edit.after, file);
  return openModel(file).index.tensors.reduce((n, t) => n + t.bytes, 0);
}

test('an already-quantized model: each estimate is what that transform would write on it, never more than stored', async () => {
  const cnn = path.join(thirdPartyModels, 'hello_deepa.onnx');
  const gpt = path.join(repoRoot, 'test/fixtures/gpt/tiny-gpt.onnx');
  // MatMulNBits and GatherBlockQuantized are left as they are by every method; the GPT's attention
  // mask (-Inf above the diagonal) is refused by every transform.
  // UINT8 per tensor, as onnxruntime's quantizer writes: its scalar scale and zero point are no layer's weights.
  // Pruned: stored masked (a bit mask and the non-zeros); every method writes the dense weight.
  const cases = [['INT8', int8, cnn], ['UINT8 per tensor', uint8PerTensor, cnn], ['16 clusters', clusters16, cnn], ['pruned', pruned, cnn], ['MatMulNBits', nbits, gpt]] as const;
  for (const [label, first, sample] of cases) {
    const base = parseModel(new Uint8Array(fs.readFileSync(sample)), { dir: path.dirname(sample) });
    const [edit] = await applyRecipe(stateOf(base.proto, path.dirname(sample)), [parseStep(first)]);
    const file = path.join(dir, `${label}.onnx`);
    await saveModel(edit.after, file);
    const model = openModel(file);
    const { estimates: e } = await analyzeModel(model, { bins: 32 });
    const state = stateOf(model.proto, dir);
    const written = {
      float16Bytes: await weightBytesAfter(state, float16, `${label}-fp16.onnx`),
      int8PerChannelBytes: await weightBytesAfter(state, int8, `${label}-int8.onnx`),
      int4PerChannelBytes: await weightBytesAfter(state, int4, `${label}-int4.onnx`),
      cluster16Bytes: await weightBytesAfter(state, clusters16, `${label}-k16.onnx`),
    };
    for (const [key, bytes] of Object.entries(written) as [keyof typeof written, number][]) {
      assert.ok(e[key] <= e.storedBytes, `${label} model: ${key} ${e[key]} above stored ${e.storedBytes}`);
      // within 0.2% (scales counted along another axis); a scale tensor taken for a weight is 0.35%
      assert.ok(Math.abs(e[key] - bytes) <= 0.002 * e.storedBytes, `${label} model: ${key} estimated ${e[key]}, the transform writes ${bytes}`);
    }
    assert.ok(e.huffmanInt8Bytes !== null && e.huffmanInt8Bytes <= e.storedBytes, `${label} model: Huffman ${e.huffmanInt8Bytes} above stored ${e.storedBytes}`);
    assert.ok(e.huffmanInt8Bytes <= e.int8PerChannelBytes, `${label} model: Huffman ${e.huffmanInt8Bytes} above INT8 ${e.int8PerChannelBytes}`);
  }
});
