/**
 * GPTQ's cost on a K×N layer (default 1024×1024): the Hessian over `rows` inputs (64 a batch,
 * as one calibration window gives them), the inverse Hessian's factor, and the quantization with
 * its error updates, each timed on its own; each with the WebAssembly products and, as the peer
 * in the same run, all in JavaScript (`…JsS`, and the ratio `…Speedup`; `--no-js` skips the peer, which takes
 * minutes at K = 4096). CPU seconds, `node dist/bench/gptqBench.js [K] [N] [rows] [--no-js]`.
 */
import { HessianAccumulator, hessianSum, type HessianSum } from '../src/transforms/hessian';
import { inverseUpperFactor } from '../src/transforms/cholesky';
import { gptqQuantize } from '../src/transforms/gptq';
import { ranAlone } from './ranAlone';
import { useKernels } from '../src/analyzers/wasm/kernelSwitch';

/** Deterministic pseudo-random values in [-1, 1) (a linear congruential generator). */
function noise(length: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

/** CPU seconds of this process since `since` (wall time means little on a shared machine). */
function seconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

export async function benchGptq(k = 1024, n = 1024, rows = 2048, peer = true): Promise<Record<string, number>> {
  const base = noise(rows * k, 1);
  // Neighbouring inputs share a component, so H is far from diagonal.
  const x = Float32Array.from(base, (v, i) => v + (i % k > 0 ? base[i - 1] : 0));
  const w = Float32Array.from(noise(k * n, 2), (v) => v * 0.05);
  const gather = (acc: HessianSum): Float64Array => {
    for (let r = 0; r < rows; r += 64) acc.add(x.subarray(r * k, Math.min(r + 64, rows) * k), Math.min(64, rows - r));
    return acc.finish();
  };
  const t = process.cpuUsage();
  const h = gather(hessianSum(k));
  const result: Record<string, number> = { k, n, rows, hessianS: seconds(t) };
  if (peer) {
    const t1 = process.cpuUsage();
    const js = gather(new HessianAccumulator(k));
    result.hessianJsS = seconds(t1);
    result.hessianSpeedup = result.hessianJsS / result.hessianS;
    // The largest difference from the reference, relative to the largest |H|.
    result.hessianMaxRelDiff = h.reduce((m, v, i) => Math.max(m, Math.abs(v - js[i])), 0) / js.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  }
  const timed = async (name: string, f: () => Promise<unknown>): Promise<void> => {
    for (const kernels of peer ? [true, false] : [true]) {
      useKernels(kernels);
      const t0 = process.cpuUsage();
      await f();
      result[kernels ? `${name}S` : `${name}JsS`] = seconds(t0);
    }
    useKernels(true);
    if (peer) result[`${name}Speedup`] = result[`${name}JsS`] / result[`${name}S`];
  };
  await timed('factor', async () => {
    const copy = Float64Array.from(h);
    for (let i = 0; i < k; i++) copy[i * k + i] += 0.01;
    await inverseUpperFactor(copy, k);
  });
  for (const [name, options] of [
    ['int4Block32', { dtype: 'int4', symmetric: true, granularity: 'block', blockSize: 32 }],
    ['int8ChannelActOrder', { dtype: 'int8', symmetric: false, granularity: 'per-channel', actOrder: true }],
  ] as const) {
    await timed(name, () => gptqQuantize(w, k, n, h, options));
  }
  return result;
}

if (ranAlone('gptqBench')) {
  const args = process.argv.slice(2);
  const [k, n, rows] = args.filter((a) => !a.startsWith('--')).map(Number);
  void benchGptq(k || undefined, n || undefined, rows || undefined, !args.includes('--no-js')).then((r) => console.log(JSON.stringify(r)));
}
