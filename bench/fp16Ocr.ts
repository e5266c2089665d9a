/**
 * `node dist/bench/fp16Ocr.js`: the FLOAT16 PP-OCRv4 rec and det models (made by
 * `/usr/bin/python3 scripts/make-fp16-models.py`) quantized INT8 per channel by `apply`'s code:
 * file size against the FLOAT16 file, output SQNR against the FLOAT16 original (and the FLOAT32
 * one), latency in onnxruntime (all optimizations, 1 thread, median of 20 runs) of all three.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openModel } from '../src/core/onnx/model';
import { saveModel } from '../src/core/onnx/writeModel';
import { applyStep, stateOf } from '../src/transforms/apply';
import { parseStep } from '../src/transforms/recipe';
import { OrtProcess } from '../src/eval/ortProcess';
import { floatValues } from '../src/eval/floatOutputs';
import { float16Bits } from '../src/core/onnx/halfFloat';
import type { Feed } from '../src/eval/feed';
import { textImages } from '../test/helpers/textImages';
import { outputSqnr } from '../test/helpers/transformRun';
import { ranAlone } from './ranAlone';

const MODELS = [
  { name: 'ch_PP-OCRv4_rec_infer', h: 48, w: 320 },
  { name: 'ch_PP-OCRv4_det_infer', h: 640, w: 640 },
];

/** Makes the FLOAT16 models with the fixture converter when they are missing (needs Debian python3-onnx). */
function ensureFp16Models(dir: string): boolean {
  if (MODELS.every((m) => fs.existsSync(path.join(dir, 'fp16', `${m.name}_fp16.onnx`)))) return true;
  const r = spawnSync('/usr/bin/python3', ['scripts/make-fp16-models.py'], { encoding: 'utf8' });
  if (r.status === 0) return true;
  console.log(`FLOAT16 OCR models: skipped, scripts/make-fp16-models.py failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
  return false;
}

export async function benchFp16Ocr(): Promise<void> {
  const dir = path.resolve('.cache/models');
  if (!ensureFp16Models(dir)) return;
  const runner = new OrtProcess();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-fp16-'));
  console.log('model        FP16 file → INT8 file (ratio)   SQNR vs FP16   vs FP32   latency FP32 / FP16 / INT8 ms');
  try {
    for (const m of MODELS) {
      const fp32 = path.join(dir, `${m.name}.onnx`);
      const fp16 = path.join(dir, 'fp16', `${m.name}_fp16.onnx`);
      if (!fs.existsSync(fp16)) throw new Error(`${fp16} is missing: run /usr/bin/python3 scripts/make-fp16-models.py first`);
      const step = parseStep({ transform: 'quantize', dtype: 'int8', granularity: 'per-channel' });
      const model = openModel(fp16);
      const edit = await applyStep(stateOf(model.proto, model.dir), step);
      const int8 = path.join(tmp, `${m.name}_fp16_int8.onnx`);
      await saveModel(edit.after, int8);
      // The same recipe on the FLOAT32 model, for reference.
      const model32 = openModel(fp32);
      const int8From32 = path.join(tmp, `${m.name}_int8.onnx`);
      await saveModel((await applyStep(stateOf(model32.proto, model32.dir), step)).after, int8From32);
      const x = textImages(1, m.h, m.w, 11);
      const dims = [1, 3, m.h, m.w];
      const feed32: Feed = { x: { type: 'float32', dims, data: x } };
      const feed16: Feed = { x: { type: 'float16', dims, data: Uint16Array.from(x, float16Bits) } };
      const time = (file: string, feed: Feed) => runner.run({ kind: 'latency', model: file, feed, runs: 20, warmup: 3, threads: 1 });
      const out = (r: Awaited<ReturnType<typeof time>>): Float32Array => {
        const t = Object.values(r.outputs)[0];
        return floatValues(t.type, t.data)!;
      };
      const a = await time(fp32, feed32);
      const b = await time(fp16, feed16);
      const c = await time(int8, feed16);
      const d = await time(int8From32, feed32);
      const size16 = fs.statSync(fp16).size;
      const size8 = fs.statSync(int8).size;
      console.log(
        `${m.name.replace('ch_PP-OCRv4_', '').replace('_infer', '').padEnd(12)} ${(size16 / 2 ** 20).toFixed(2)} MiB → ${(size8 / 2 ** 20).toFixed(2)} MiB (${(size8 / size16).toFixed(3)}x)`.padEnd(46) +
          `${outputSqnr(out(b), out(c)).toFixed(1).padStart(8)} dB ${outputSqnr(out(a), out(c)).toFixed(1).padStart(6)} dB   ${a.medianMs.toFixed(1)} / ${b.medianMs.toFixed(1)} / ${c.medianMs.toFixed(1)}` +
          `   (output ${Object.values(c.outputs)[0].type}; ${edit.result.changed.length} layers changed; the FP32 model's INT8: ${outputSqnr(out(a), out(d)).toFixed(1)} dB, ${d.medianMs.toFixed(1)} ms)`,
      );
    }
  } finally {
    runner.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (ranAlone('fp16Ocr')) {
  benchFp16Ocr().catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
