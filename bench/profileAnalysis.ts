/** Where an analysis's time goes, phase by phase (run: node dist/bench/profileAnalysis.js MODEL). */
import { openModel } from '../src/core/onnx/model';
import { attributeLayers } from '../src/analyzers/layers';
import { inferShapes } from '../src/analyzers/shapes';
import { countMacs } from '../src/analyzers/macs';
import { summarizeModel } from '../src/analyzers/modelSummary';
import { analyzeModel } from '../src/analyzers/modelAnalysis';
import { computeTensorStats } from '../src/analyzers/tensorStats';

async function main(file: string): Promise<void> {
  const time = async (label: string, f: () => unknown): Promise<void> => {
    const t0 = process.hrtime.bigint();
    await f();
    console.log(`${label.padEnd(28)} ${(Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1)} ms`);
  };
  for (let round = 0; round < 2; round++) {
    console.log(`round ${round + 1}`);
    let model = openModel(file);
    await time('open', () => (model = openModel(file)));
    await time('attribute layers', () => attributeLayers(model.index));
    await time('summary', () => summarizeModel(model, attributeLayers(model.index)));
    await time('infer shapes + MACs', () => countMacs(model.index, inferShapes(model.index, { dims: new Map(), inputs: new Map() })));
    const tensors = attributeLayers(model.index).layers.flatMap((l) => l.weights);
    await time('stats, no channel axis', async () => {
      for (const t of tensors) await computeTensorStats(t, { redundancy: false });
    });
    await time('analyzeModel (no redundancy)', () => analyzeModel(model, { redundancy: false }));
  }
}

void main(process.argv[2]);
