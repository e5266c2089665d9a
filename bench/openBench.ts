/**
 * What the editor does before it can show a model's summary and layer table: open the model
 * (read, index) and summarize it. Run: node dist/bench/openBench.js MODEL.onnx
 */
import * as fs from 'node:fs';
import { ModelSession } from '../src/transforms/modelSession';
import { summarizeModel } from '../src/analyzers/modelSummary';
import { ranAlone } from './ranAlone';

export function benchOpen(file: string): void {
  const times: number[] = [];
  let layers = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = process.hrtime.bigint();
    const s = ModelSession.open(file);
    layers = summarizeModel({ file: s.file, dir: s.state.dir, bytes: new Uint8Array(0), proto: s.state.proto, index: s.state.index }).layers.length;
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const mb = fs.statSync(file).size / 1e6;
  console.log(`open + summary (what the editor shows first) of ${file} (${mb.toFixed(1)} MB, ${layers} layers): ${sorted[2].toFixed(1)} ms median of 5 (first ${times[0].toFixed(1)} ms)`);
}

if (ranAlone('openBench')) benchOpen(process.argv[2]);
