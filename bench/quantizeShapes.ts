/**
 * Where INT8 per-channel quantization spends its time, tensor shape by tensor shape:
 * `node dist/bench/quantizeShapes.js MODEL [RUNS]` quantizes each FLOAT weight the weight-only
 * step changes (quantizeAs on weights already in memory, as transformBench's "math" row) RUNS
 * times (default 30) and prints, per shape, the best total time and ns per weight, with the
 * count of float32 denormals in those weights (each costs the kernel's division a microcode
 * assist: a tensor with many runs at twice the time of its neighbours).
 */
import { openModel } from '../src/core/onnx/model';
import { readDenseFloat32 } from '../src/core/onnx/tensorData';
import { DataType } from '../src/core/onnx/dataTypes';
import { applyStep, stateOf } from '../src/transforms/apply';
import { parseStep } from '../src/transforms/recipe';
import { rangeOf, scaleLayout, type ScaleLayout } from '../src/transforms/quantizeMath';
import { quantizeAs } from '../src/transforms/dequantizeOutput';
import { ranAlone } from './ranAlone';

const SMALLEST_NORMAL = 2 ** -126;

export async function quantizeShapes(file: string, runs: number): Promise<void> {
  const model = openModel(file);
  const state = stateOf(model.proto, model.dir);
  const step = await applyStep(state, parseStep({ transform: 'quantize', dtype: 'int8', granularity: 'per-channel' }));
  const items: { shape: string; values: Float32Array; layout: ScaleLayout; best: number }[] = [];
  for (const c of step.result.changed) {
    for (const t of c.tensors) {
      const stored = state.index.tensors.find((x) => x.name === t.tensor)!;
      if (stored.dataType !== DataType.Float) continue;
      const axis = t.detail?.axis as number | null;
      const layout = scaleLayout(stored.dims, axis === null ? 'per-tensor' : 'per-channel', axis ?? undefined, 0);
      items.push({ shape: `${c.opType} ${stored.dims.join('×')}`, values: await readDenseFloat32(stored), layout, best: Infinity });
    }
  }
  // Round after round over all tensors, as the step meets them; the best of each tensor's runs.
  for (let r = 0; r < runs; r++) {
    for (const it of items) {
      const t0 = process.hrtime.bigint();
      quantizeAs(it.values, it.layout, rangeOf('int8'), true, DataType.Float, DataType.Float);
      it.best = Math.min(it.best, Number(process.hrtime.bigint() - t0));
    }
  }
  const byShape = new Map<string, { tensors: number; weights: number; ns: number; denormals: number }>();
  for (const it of items) {
    const s = byShape.get(it.shape) ?? { tensors: 0, weights: 0, ns: 0, denormals: 0 };
    s.tensors++;
    s.weights += it.values.length;
    s.ns += it.best;
    for (const v of it.values) if (v !== 0 && Math.abs(v) < SMALLEST_NORMAL) s.denormals++;
    byShape.set(it.shape, s);
  }
  const total = [...byShape.values()].reduce((n, s) => n + s.ns, 0);
  console.log(`INT8 per channel on ${items.length} FLOAT weights, best of ${runs} each; sum of bests ${(total / 1e6).toFixed(2)} ms`);
  console.log('shape                      tensors      ms  ns/weight  denormals');
  for (const [shape, s] of [...byShape].sort((a, b) => b[1].ns - a[1].ns)) {
    console.log(`${shape.padEnd(26)} ${String(s.tensors).padStart(7)} ${(s.ns / 1e6).toFixed(3).padStart(7)} ${(s.ns / s.weights).toFixed(2).padStart(10)} ${String(s.denormals).padStart(10)}`);
  }
}

if (ranAlone('quantizeShapes')) void quantizeShapes(process.argv[2], Number(process.argv[3] ?? 30));
