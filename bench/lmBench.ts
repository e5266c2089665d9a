/**
 * `node dist/bench/lmBench.js`: our GPT fixture (test/fixtures/gpt) at FP32, INT8 per channel and
 * INT4 in blocks (round to nearest and GPTQ; DequantizeLinear and MatMulNBits): file size,
 * perplexity on the held-back windows, and latency per 64-token window in onnxruntime (1 thread,
 * batch 1, median over the windows), each candidate evaluated against the FP32 model in the
 * same run. GPTQ calibrates on calib-windows.npz.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openModel } from '../src/core/onnx/model';
import { saveModel } from '../src/core/onnx/writeModel';
import { applyStep, stateOf } from '../src/transforms/apply';
import { parseStep } from '../src/transforms/recipe';
import { runEval } from '../src/cli/evalCommand';
import { OrtProcess } from '../src/eval/ortProcess';
import { ortTransformServices } from '../src/eval/transformServices';

const dir = path.resolve('test/fixtures/gpt');

const RECIPES: Record<string, Record<string, unknown> | undefined> = {
  'FP32': undefined,
  'INT8 per-channel': { transform: 'quantize', dtype: 'int8' },
  'INT4 RTN block 32 (qdq)': { transform: 'quantize', dtype: 'int4', blockSize: 32, symmetric: false },
  'INT4 RTN block 128 (qdq)': { transform: 'quantize', dtype: 'int4', blockSize: 128, symmetric: false },
  'INT4 RTN block 32 (nbits)': { transform: 'quantize', dtype: 'int4', blockSize: 32, symmetric: false, format: 'matmulnbits' },
  'INT4 RTN block 128 (nbits)': { transform: 'quantize', dtype: 'int4', blockSize: 128, symmetric: false, format: 'matmulnbits' },
};

async function main(): Promise<void> {
  const model = path.join(dir, 'tiny-gpt.onnx');
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-lm-'));
  const runner = new OrtProcess();
  const services = ortTransformServices(runner, () => ({ relativeTo: dir }));
  const gptq = (extra: Record<string, unknown>) => ({ transform: 'quantize', dtype: 'int4', symmetric: false, method: 'gptq', calibration: { data: path.join(dir, 'calib-windows.npz'), samples: 128 }, ...extra });
  // GPTQ rows when the recipe knows the method (parseStep refuses unknown fields).
  const recipes = { ...RECIPES };
  try {
    parseStep(gptq({ blockSize: 32 }));
    Object.assign(recipes, {
      'INT4 GPTQ block 32 (qdq)': gptq({ blockSize: 32 }),
      'INT4 GPTQ block 128 (qdq)': gptq({ blockSize: 128 }),
      'INT4 GPTQ block 32 (nbits)': gptq({ blockSize: 32, format: 'matmulnbits' }),
      'INT4 GPTQ block 128 (nbits)': gptq({ blockSize: 128, format: 'matmulnbits' }),
    });
  } catch {
    console.log('(no GPTQ rows: this build has no "method": "gptq")');
  }
  console.log('model                          file       perplexity  Δ vs FP32 (95% CI)        agreement  ms/window');
  try {
    for (const [name, step] of Object.entries(recipes)) {
      let file = model;
      if (step) {
        const m = openModel(model);
        const edit = await applyStep(stateOf(m.proto, m.dir), parseStep(step), undefined, services);
        file = path.join(tmp, `${name.replace(/\W+/g, '_')}.onnx`);
        await saveModel(edit.after, file);
      }
      const r = await runEval(file, { baseline: model, dataset: { kind: 'numpy', path: path.join(dir, 'test-windows.npz') }, task: 'lm', batchSize: 1, threads: 1, optimization: 'all', timeoutSeconds: 600, json: true }, () => undefined);
      const lm = r.lm!;
      const d = lm.perplexityDelta!;
      console.log(
        `${name.padEnd(30)} ${(fs.statSync(file).size / 2 ** 20).toFixed(2).padStart(5)} MiB ${lm.candidate.perplexity.toFixed(3).padStart(10)}  ` +
          `${(d.value >= 0 ? '+' : '') + d.value.toFixed(3)} [${d.ci95[0].toFixed(3)}, ${d.ci95[1].toFixed(3)}]`.padEnd(26) +
          `${(lm.agreement! * 100).toFixed(1).padStart(8)}%  ${r.candidate.latencyMs.median.toFixed(2).padStart(8)}  (FP32 in the same run: ${r.baseline!.latencyMs.median.toFixed(2)})`,
      );
    }
  } finally {
    runner.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error((e as Error).message);
  process.exit(1);
});
