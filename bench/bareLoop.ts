/** The reference for the eval bench: a bare onnxruntime-node loop over the same .npy data (run as its own process). */
import * as fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import { npyToFloat32, parseNpy } from '../src/core/npy';

async function main(): Promise<void> {
  const [model, data, batchText, limitText] = process.argv.slice(2);
  const batch = Number(batchText);
  const a = parseNpy(fs.readFileSync(data));
  const all = npyToFloat32(a);
  const per = all.length / a.shape[0];
  const total = Math.min(a.shape[0], Number(limitText));
  const session = await ort.InferenceSession.create(model, { graphOptimizationLevel: 'all', intraOpNumThreads: 1 });
  const name = session.inputNames[0];
  const t0 = process.hrtime.bigint();
  for (let first = 0; first < total; first += batch) {
    const count = Math.min(batch, total - first);
    await session.run({ [name]: new ort.Tensor('float32', all.subarray(first * per, (first + count) * per), [count, ...a.shape.slice(1)]) });
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ samplesPerSecond: total / seconds }));
  await session.release();
}
void main();
