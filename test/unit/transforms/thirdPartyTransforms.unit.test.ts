/**
 * Transforms on real third-party models: each result is saved, loaded by onnxruntime-node, run
 * on a fixed input and compared with the original's output. The bounds are stated per model
 * and transform (output SQNR in dB); they were measured on these inputs with some margin.
 * Pruning without fine-tuning costs these small models a lot: its bounds only guard against
 * getting worse (a real accuracy check is the evaluation issue's job).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { thirdPartyModels } from '../../helpers/paths';
import { applyAndRun, outputSqnr, runBytes } from '../../helpers/transformRun';
import { fixedFloats, ort, type Feeds } from '../../helpers/ort';
import { textImages } from '../../helpers/textImages';

interface Case {
  readonly feeds: () => Feeds;
  readonly output: string;
  /** Least output SQNR per step name (Infinity: nothing may change, e.g. no layer worth factorizing). */
  readonly bounds: Record<string, number>;
}

const STEPS: Record<string, Record<string, unknown>> = {
  'int8 per-channel': { transform: 'quantize', dtype: 'int8', granularity: 'per-channel' },
  'uint8 per-tensor asymmetric': { transform: 'quantize', dtype: 'uint8', granularity: 'per-tensor', symmetric: false },
  'int4 blocks of 32': { transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 32 },
  float16: { transform: 'quantize', dtype: 'float16' },
  'prune 20%': { transform: 'prune', sparsity: 0.2 },
  'prune 2:4': { transform: 'prune', pattern: '2:4' },
  'channels 10%': { transform: 'prune', pattern: 'channel', sparsity: 0.1 },
  'cluster 256': { transform: 'cluster', clusters: 256 },
  'cluster 16': { transform: 'cluster', clusters: 16 },
  'factorize 99.9%': { transform: 'factorize', energy: 0.999 },
};

const textImage = (h: number, w: number) => (): Feeds => ({ x: new ort.Tensor('float32', textImages(1, h, w), [1, 3, h, w]) });

const CASES: Record<string, Case> = {
  'ch_PP-OCRv4_rec_infer.onnx': { feeds: textImage(48, 160), output: 'softmax_11.tmp_0', bounds: { 'int8 per-channel': 15, 'uint8 per-tensor asymmetric': 7, 'int4 blocks of 32': 7, 'float16': 45, 'prune 20%': 11, 'prune 2:4': 4, 'channels 10%': 100, 'cluster 256': 16, 'cluster 16': 4, 'factorize 99.9%': 35 } },
  'ch_PP-OCRv4_det_infer.onnx': { feeds: textImage(96, 96), output: 'sigmoid_0.tmp_0', bounds: { 'int8 per-channel': 19, 'uint8 per-tensor asymmetric': 7, 'int4 blocks of 32': -3, 'float16': 45, 'prune 20%': 3, 'prune 2:4': -3, 'channels 10%': -1, 'cluster 256': 23, 'cluster 16': -3, 'factorize 99.9%': 55 } },
  'ch_ppocr_mobile_v2.0_cls_infer.onnx': { feeds: textImage(48, 192), output: '', bounds: { 'int8 per-channel': 55, 'uint8 per-tensor asymmetric': 37, 'int4 blocks of 32': 35, 'float16': 75, 'prune 20%': 24, 'prune 2:4': 0, 'channels 10%': -6, 'cluster 256': 45, 'cluster 16': 44, 'factorize 99.9%': Infinity } },
  'silero_vad_v5.onnx': {
    feeds: () => ({
      input: new ort.Tensor('float32', fixedFloats(512, 3), [1, 512]),
      state: new ort.Tensor('float32', fixedFloats(256, 4), [2, 1, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
    }),
    output: 'stateN',
    bounds: { 'int8 per-channel': 19, 'uint8 per-tensor asymmetric': 10, 'int4 blocks of 32': 9, 'float16': 52, 'prune 20%': 16, 'prune 2:4': 1, 'channels 10%': 0, 'cluster 256': 21, 'cluster 16': 4, 'factorize 99.9%': Infinity },
  },
  'silero_vad_legacy.onnx': {
    feeds: () => ({
      input: new ort.Tensor('float32', fixedFloats(512, 3), [1, 512]),
      sr: new ort.Tensor('int64', BigInt64Array.from([16000n]), []),
      h: new ort.Tensor('float32', fixedFloats(128, 4), [2, 1, 64]),
      c: new ort.Tensor('float32', fixedFloats(128, 5), [2, 1, 64]),
    }),
    output: 'hn',
    bounds: { 'int8 per-channel': 37, 'uint8 per-tensor asymmetric': 25, 'int4 blocks of 32': 7, 'float16': 58, 'prune 20%': 14, 'prune 2:4': 1, 'channels 10%': 4, 'cluster 256': 35, 'cluster 16': 8, 'factorize 99.9%': 62 },
  },
  'hello_deepa.onnx': { feeds: () => ({ 'onnx::Flatten_0': new ort.Tensor('float32', fixedFloats(25 * 96, 6), [1, 25, 96]) }), output: '', bounds: { 'int8 per-channel': 95, 'uint8 per-tensor asymmetric': 93, 'int4 blocks of 32': 70, 'float16': 110, 'prune 20%': 83, 'prune 2:4': 50, 'channels 10%': Infinity, 'cluster 256': 100, 'cluster 16': 78, 'factorize 99.9%': Infinity } },
};

for (const [file, c] of Object.entries(CASES)) {
  test(`${file}: every transform runs in onnxruntime within its stated output bound`, async () => {
    const bytes = fs.readFileSync(path.join(thirdPartyModels, file));
    const base = await runBytes(bytes, c.feeds());
    const output = c.output || Object.keys(base)[0];
    for (const [name, step] of Object.entries(STEPS)) {
      const o = await applyAndRun(bytes, step, c.feeds());
      const sqnr = outputSqnr(base[output], o.outputs[output]);
      const bound = c.bounds[name];
      assert.ok(sqnr >= bound, `${name}: output SQNR ${sqnr.toFixed(1)} dB < ${bound} dB`);
      const { transform } = step;
      if (transform === 'quantize' || transform === 'cluster') {
        assert.ok(o.edit.result.changed.length > 0, `${name}: no layer changed`);
        assert.ok(o.fileBytes < bytes.length * (step.dtype === 'float16' ? 0.6 : 0.5), `${name}: ${o.fileBytes} of ${bytes.length} bytes`);
      }
      if (step.pattern === 'channel' && o.edit.result.changed.length > 0) assert.ok(o.fileBytes < bytes.length, `${name}: the file did not shrink`);
      if (transform === 'factorize') assert.equal(o.fileBytes <= bytes.length + 4096, true, `${name}: the file grew`);
    }
  });
}
