/**
 * `npm run bench` (evaluation): samples per second of our evaluation job (candidate only, in the
 * onnxruntime child process, metrics included) against a bare onnxruntime-node loop over the same
 * model, data and batch size, each in a fresh process, in the same run. Goal (issue 6): ≥ 95%.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { OrtProcess } from '../src/eval/ortProcess';
import { textImages } from '../test/helpers/textImages';
import { writeNpy } from '../test/helpers/npyWrite';

export async function benchEval(model: string, h: number, w: number, samples = 96, batch = 8): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-bench-'));
  try {
    writeNpy(path.join(dir, 'x.npy'), textImages(samples, h, w), [samples, 3, h, w]);
    const ours: number[] = [];
    const bare: number[] = [];
    for (let round = 0; round < 3; round++) {
      const runner = new OrtProcess();
      let rate = 0;
      try {
        await runner.run(
          { kind: 'evaluate', candidate: model, dataset: { kind: 'numpy', path: dir }, batchSize: batch, threads: 1, optimization: 'all' },
          (_done, _total, samplesPerSecond) => (rate = samplesPerSecond ?? rate),
        );
      } finally {
        runner.dispose();
      }
      ours.push(rate);
      const r = spawnSync(process.execPath, [path.join(__dirname, 'bareLoop.js'), model, path.join(dir, 'x.npy'), String(batch), String(samples)], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(r.stderr);
      bare.push(JSON.parse(r.stdout).samplesPerSecond);
    }
    const median = (v: number[]) => [...v].sort((a, b) => a - b)[1];
    console.log(`evaluation throughput on ${path.basename(model)} ${h}x${w}, ${samples} samples, batch ${batch}, 1 thread (median of 3 rounds)`);
    console.log(`  bare onnxruntime loop  ${median(bare).toFixed(1)} samples/s`);
    console.log(`  our evaluation job     ${median(ours).toFixed(1)} samples/s (data loading, batching and metrics included)`);
    console.log(`  ratio                  ${((median(ours) / median(bare)) * 100).toFixed(1)}% of the bare loop`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
