/**
 * The Gram kernel's speed (issue 17): GFLOP/s of our WebAssembly kernel and of the JavaScript
 * reference on 1024×9216 and 512×4608 float32 matrices, against numpy's float32 W·Wᵀ (OpenBLAS
 * sgemm, one thread) and float64 (dgemm) on the same sizes in the same run.
 * Goal: the kernel >= 50% of OpenBLAS's single-thread GFLOP/s. Run: node dist/bench/gramBench.js
 */
import { spawnSync } from 'node:child_process';
import { gramOfSmallerSide } from '../src/analyzers/lowRank';
import { GramKernel } from '../src/analyzers/wasm/gramKernel';

const SIZES: readonly [number, number][] = [
  [512, 4608],
  [1024, 9216],
];

function numpyGflops(rows: number, cols: number): { f32: number; f64: number } | undefined {
  const code = `
import time, numpy as np
w = np.random.default_rng(1).standard_normal((${rows}, ${cols})).astype(np.float32)
out = {}
for name, a in (("f32", w), ("f64", w.astype(np.float64))):
    a @ a.T
    runs = []
    for _ in range(3):
        t0 = time.perf_counter(); a @ a.T; runs.append(time.perf_counter() - t0)
    out[name] = 2 * ${rows} * ${rows} * ${cols} / sorted(runs)[1] / 1e9
print(out["f32"], out["f64"])`;
  const r = spawnSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
  if (r.status !== 0) return undefined;
  const [f32, f64] = r.stdout.trim().split(' ').map(Number);
  return { f32, f64 };
}

async function main(): Promise<void> {
  console.log('Gram W·Wᵀ, GFLOP/s counting 2·n²·k (the full product, as sgemm computes it; we compute half)');
  console.log('size          kernel    JavaScript   numpy f32 (sgemm, 1 thread)   numpy f64 (dgemm)   kernel / sgemm');
  const kernel = new GramKernel();
  for (const [rows, cols] of SIZES) {
    const w = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.7) * 0.05);
    const flops = 2 * rows * rows * cols;
    const time = async (f: () => Promise<unknown>, runs: number): Promise<number> => {
      const t: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = process.hrtime.bigint();
        await f();
        t.push(Number(process.hrtime.bigint() - t0) / 1e9);
      }
      return t.sort((a, b) => a - b)[Math.floor(runs / 2)];
    };
    const ours = flops / (await time(() => kernel.gram(w, rows, cols), 3)) / 1e9;
    const js = rows <= 512 ? flops / (await time(() => gramOfSmallerSide(w, rows, cols), 1)) / 1e9 : NaN;
    const peer = numpyGflops(rows, cols);
    console.log(
      `${`${rows}×${cols}`.padEnd(12)} ${ours.toFixed(2).padStart(7)} ${js.toFixed(2).padStart(12)} ${(peer?.f32.toFixed(2) ?? '-').padStart(29)} ${(peer?.f64.toFixed(2) ?? '-').padStart(19)} ${peer ? `${((100 * ours) / peer.f32).toFixed(0)}%` : '-'}`.padStart(16),
    );
  }
}

void main();
