/**
 * `node dist/bench/gptqConvBench.js [MODEL.onnx] [--samples DIR] [--calib N]`: GPTQ against round
 * to nearest on the Conv layers of a real CNN (default PP-OCRv4's recognizer from
 * `npm run fetch-models`), INT4 per channel and in blocks of 32 input channels (DequantizeLinear),
 * both methods on the same layers (`p2o.Conv.*`). Calibration: the first N text lines that
 * scripts/make-ocr-samples.mjs renders (made into a temp folder when --samples is not given);
 * the output's SQNR against the float model is measured on the other lines (held out), in
 * onnxruntime. Prints the layers changed, the apply time and the SQNR per output.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseNpy } from '../src/core/npy';
import { openModel } from '../src/core/onnx/model';
import { saveModel } from '../src/core/onnx/writeModel';
import { applyStep, stateOf } from '../src/transforms/apply';
import { parseStep } from '../src/transforms/recipe';
import { runEval } from '../src/cli/evalCommand';
import { OrtProcess } from '../src/eval/ortProcess';
import { ortTransformServices } from '../src/eval/transformServices';
import { ranAlone } from './ranAlone';

/** Items [from, to) of a float32 .npy as DIR/NAME.npy (a folder `--data` and calibration read). */
function writeSlice(file: string, name: string, from: number, to: number, dir: string): void {
  const a = parseNpy(fs.readFileSync(file));
  if (a.dtype !== 'float32') throw new Error(`${file} is ${a.dtype}, not float32`);
  const item = a.shape.slice(1).reduce((x, y) => x * y, 1);
  const body = new Uint8Array(a.data).subarray(from * item * 4, to * item * 4);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${[to - from, ...a.shape.slice(1)].join(', ')}), }`;
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11, ' ') + '\n';
  const head = new Uint8Array([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8, ...Buffer.from(header, 'latin1')]);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.npy`), Buffer.concat([head, body]));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
  const model = path.resolve(args[0] && !args[0].startsWith('--') ? args[0] : '.cache/models/ch_PP-OCRv4_rec_infer.onnx');
  const calibCount = Number(option('--calib') ?? 32);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-gptq-conv-'));
  let samples = option('--samples');
  if (!samples) {
    const made = spawnSync(process.execPath, [path.resolve('scripts/make-ocr-samples.mjs'), path.join(tmp, 'ocr'), String(2 * calibCount), '1'], { encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`make-ocr-samples: ${made.stderr}`);
    samples = path.join(tmp, 'ocr', 'rec');
  }
  const input = openModel(model).proto.graph!.input[0].name!;
  const total = parseNpy(fs.readFileSync(path.join(samples, `${input}.npy`))).shape[0];
  if (total <= calibCount) throw new Error(`${samples} has ${total} samples: need more than the ${calibCount} calibration ones`);
  writeSlice(path.join(samples, `${input}.npy`), input, 0, calibCount, path.join(tmp, 'calib'));
  writeSlice(path.join(samples, `${input}.npy`), input, calibCount, total, path.join(tmp, 'held'));
  const runner = new OrtProcess();
  const services = ortTransformServices(runner, () => ({ relativeTo: tmp }));
  console.log(`${model}: GPTQ calibrated on ${calibCount} samples, SQNR on the other ${total - calibCount} (load average ${os.loadavg()[0].toFixed(1)})`);
  console.log('| INT4 Conv layers | method | layers changed | apply s | output SQNR (dB) |\n| --- | --- | ---: | ---: | --- |');
  try {
    for (const granularity of [{ granularity: 'per-channel' }, { granularity: 'block', blockSize: 32 }]) {
      for (const method of ['rtn', 'gptq']) {
        const step = parseStep({ transform: 'quantize', dtype: 'int4', symmetric: false, layers: ['p2o.Conv.*'], ...granularity, method, ...(method === 'gptq' ? { calibration: { data: 'calib', samples: calibCount } } : {}) });
        const m = openModel(model);
        const t0 = Date.now();
        const edit = await applyStep(stateOf(m.proto, m.dir), step, undefined, services);
        const seconds = (Date.now() - t0) / 1000;
        const file = path.join(tmp, `${method}.onnx`);
        await saveModel(edit.after, file);
        const r = await runEval(file, { baseline: model, dataset: { kind: 'numpy', path: path.join(tmp, 'held') }, batchSize: 1, threads: 1, optimization: 'all', timeoutSeconds: 1200, json: true }, () => undefined);
        const sqnr = (r.outputs ?? []).map((o) => `${o.name} ${o.sqnrDb === null ? 'exact' : o.sqnrDb.toFixed(2)}`).join(', ');
        const label = granularity.granularity === 'block' ? 'block 32' : 'per-channel';
        console.log(`| ${label} | ${method.toUpperCase()} | ${edit.result.changed.length} (${edit.result.skipped.length} skipped) | ${seconds.toFixed(1)} | ${sqnr} |`);
        if (method === 'gptq' && edit.result.skipped.length) console.log(`  skipped: ${[...new Set(edit.result.skipped.map((s) => s.reason))].join('; ')}`);
      }
    }
  } finally {
    runner.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (ranAlone('gptqConvBench')) {
  main().catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
