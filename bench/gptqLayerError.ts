/**
 * `node dist/bench/gptqLayerError.js [model.onnx calib.npz heldout.npz]`: per MatMul/Gemm layer
 * of a language model (default: our GPT fixture), the output error ‖XW − XŴ‖² / ‖XW‖² of round to
 * nearest and of GPTQ variants (INT4 asymmetric, blocks of 32 and 128), on the calibration
 * windows GPTQ fitted to and on held-out windows. ‖XΔ‖² = rows/2 · Σₙ Δₙᵀ H Δₙ, so both come from
 * the Hessians the GPTQ pipeline gathers (gptqCalibrate, onnxruntime child), once per data set.
 */
import * as path from 'node:path';
import { openModel } from '../src/core/onnx/model';
import { attributeLayers } from '../src/analyzers/layers';
import { stateOf } from '../src/transforms/apply';
import { parseStep, type QuantizeStep } from '../src/transforms/recipe';
import { layerName, selectLayers } from '../src/transforms/targets';
import { ModelPatch } from '../src/transforms/patch';
import { NameAllocator } from '../src/transforms/names';
import type { TransformContext } from '../src/transforms/transform';
import { gptqCalibrate, type GptqTarget } from '../src/transforms/gptqLayers';
import { gptqLayout, gptqQuantize, type GptqOptions } from '../src/transforms/gptq';
import { quantizeValues, rangeOf } from '../src/transforms/quantizeMath';
import { weightSource } from '../src/transforms/weightSource';
import { transposed } from '../src/core/transpose';
import { OrtProcess } from '../src/eval/ortProcess';
import { ortTransformServices } from '../src/eval/transformServices';
import { ranAlone } from './ranAlone';

/** Σₙ Δₙᵀ H Δₙ over the columns of Δ [K, N]. */
export function quadratic(delta: Float64Array, h: Float64Array, k: number, n: number): number {
  const hd = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < k; i++) {
    hd.fill(0);
    for (let j = 0; j < k; j++) {
      const hij = h[i * k + j];
      if (hij === 0) continue;
      const at = j * n;
      for (let c = 0; c < n; c++) hd[c] += hij * delta[at + c];
    }
    const at = i * n;
    for (let c = 0; c < n; c++) total += delta[at + c] * hd[c];
  }
  return total;
}

const diff = (w: Float32Array, r: Float32Array): Float64Array => Float64Array.from(w, (v, i) => v - r[i]);

/** The Hessians of every target's input on one data set. */
async function hessians(ctx: TransformContext, step: QuantizeStep): Promise<{ targets: Map<string, GptqTarget>; h: Map<string, Float64Array> }> {
  const cal = await gptqCalibrate(ctx, step);
  try {
    const targets = new Map<string, GptqTarget>();
    const h = new Map<string, Float64Array>();
    for (const [layer, t] of cal.targets) {
      targets.set(layerName(layer), t);
      h.set(layerName(layer), Float64Array.from(await cal.hessian(t.input)));
    }
    return { targets, h };
  } finally {
    cal.dispose();
  }
}

export async function layerErrors(model: string, calib: string, heldOut: string): Promise<void> {
  const m = openModel(model);
  const state = stateOf(m.proto, m.dir);
  const runner = new OrtProcess();
  const services = ortTransformServices(runner, () => ({ relativeTo: path.dirname(model) }));
  const ctxOf = (): TransformContext => ({
    state, services, layers: selectLayers(attributeLayers(state.index), '*'), patch: new ModelPatch(), names: new NameAllocator(state.index), checkpoint: async () => undefined,
  });
  const stepOn = (data: string, samples: number): QuantizeStep =>
    parseStep({ transform: 'quantize', dtype: 'int4', symmetric: false, method: 'gptq', blockSize: 32, calibration: { data, samples } }) as QuantizeStep;
  try {
    const fit = await hessians(ctxOf(), stepOn(calib, 100_000));
    const test = await hessians(ctxOf(), stepOn(heldOut, 100_000));
    const variants: Record<string, Partial<GptqOptions>> = {
      'gptq': {},
      'gptq act': { actOrder: true },
      'gptq d.1': { damp: 0.1 },
    };
    console.log('layer'.padEnd(34) + 'K×N'.padEnd(10) + 'block  data  ' + ['rtn', ...Object.keys(variants)].map((v) => v.padStart(10)).join(''));
    const totals = new Map<string, number>();
    for (const [name, t] of fit.targets) {
      const values = (await weightSource(t.w)).values;
      const w = t.transB ? transposed(values, t.n, t.k) : values;
      for (const block of [32, 128]) {
        const layout = gptqLayout(t.k, t.n, 'block', block);
        const restored: Record<string, Float32Array> = { rtn: quantizeValues(w, layout, rangeOf('uint4'), false).restored };
        for (const [v, o] of Object.entries(variants)) {
          restored[v] = (await gptqQuantize(w, t.k, t.n, fit.h.get(name)!, { dtype: 'uint4', symmetric: false, granularity: 'block', blockSize: block, ...o })).restored;
        }
        for (const [label, h] of [['calib', fit.h.get(name)!], ['held', test.h.get(name)!]] as const) {
          const signal = quadratic(Float64Array.from(w), h, t.k, t.n);
          const cells = Object.entries(restored).map(([v, r]) => {
            const rel = quadratic(diff(w, r), h, t.k, t.n) / signal;
            const key = `${block} ${label} ${v}`;
            totals.set(key, (totals.get(key) ?? 0) + rel);
            return rel.toExponential(2).padStart(10);
          });
          console.log(`${name.slice(-33).padEnd(34)}${`${t.k}×${t.n}`.padEnd(10)}${String(block).padEnd(7)}${label.padEnd(6)}${cells.join('')}`);
        }
      }
    }
    console.log('sum of relative errors over the layers:');
    for (const block of [32, 128]) {
      for (const label of ['calib', 'held']) {
        const row = ['rtn', ...Object.keys(variants)].map((v) => totals.get(`${block} ${label} ${v}`)!.toExponential(3).padStart(10));
        console.log(`${''.padEnd(44)}${String(block).padEnd(7)}${label.padEnd(6)}${row.join('')}`);
      }
    }
  } finally {
    runner.dispose();
  }
}

if (ranAlone('gptqLayerError')) {
  const dir = path.resolve('test/fixtures/gpt');
  const [model, calib, held] = process.argv.slice(2);
  layerErrors(model ?? path.join(dir, 'tiny-gpt.onnx'), calib ?? path.join(dir, 'calib-windows.npz'), held ?? path.join(dir, 'test-windows.npz')).catch((e) => {
    console.error((e as Error).message);
    process.exit(1);
  });
}
