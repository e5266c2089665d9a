/**
 * The model-level size estimates keep their order: Huffman-coded INT8 is never above plain INT8
 * (an LSTM's recurrent weights, which are not its main weight, used to be counted at FLOAT there).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { analyzeModel } from '../../../src/analyzers/modelAnalysis';
import { thirdPartyModels } from '../../helpers/paths';

test('INT8+Huffman ≤ INT8 ≤ FP16 on a recurrent model and a convolutional one', async () => {
  for (const file of ['silero_vad_legacy.onnx', 'hello_deepa.onnx']) {
    const { estimates: e } = await analyzeModel(openModel(path.join(thirdPartyModels, file)), { bins: 32 });
    assert.ok(e.huffmanInt8Bytes !== null && e.huffmanInt8Bytes > 0, file);
    assert.ok(e.huffmanInt8Bytes <= e.int8PerChannelBytes, `${file}: Huffman ${e.huffmanInt8Bytes} > INT8 ${e.int8PerChannelBytes}`);
    assert.ok(e.int8PerChannelBytes < e.float16Bytes && e.float16Bytes < e.storedBytes, file);
  }
});
