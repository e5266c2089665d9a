/**
 * The matrix multiply's speed (issue 17): GFLOP/s of our WebAssembly kernel (gemmKernel), plain
 * and with fused multiply-add (relaxed SIMD), on W·Wᵀ of 512×4608 and 1024×9216 float32
 * matrices — as the Gram matrix the analysis computes (lower half, float32 blocks summed in
 * float64), as a full float32 product, and as a full float64 product — against numpy's float32
 * (OpenBLAS sgemm, and ssyrk through scipy) and float64 (dgemm) with one thread, in the same run;
 * and the ceiling of a register-only loop of the micro-tile's SIMD128 arithmetic on this CPU
 * (no loads, no stores), which bounds what any 128-bit WebAssembly kernel can reach.
 * Times are CPU seconds of the process (the machine is shared), medians of 3.
 * Goal (issue 17): the Gram kernel >= 50% of OpenBLAS's single-thread GFLOP/s.
 * Run: node dist/bench/gramBench.js
 */
import { spawnSync } from 'node:child_process';
import { gramOfSmallerSide } from '../src/analyzers/lowRank';
import { GramKernel } from '../src/analyzers/wasm/gramKernel';
import { GemmKernel, hasFusedMultiplyAdd } from '../src/analyzers/wasm/gemmKernel';

const SIZES: readonly [number, number][] = [
  [512, 4608],
  [1024, 9216],
];

interface Peer {
  sgemm: number;
  ssyrk: number;
  dgemm: number;
}

/** numpy/scipy GFLOP/s (2·n²·k flops, as for the full product) with OpenBLAS on one thread. */
function numpyGflops(rows: number, cols: number): Peer | undefined {
  const code = `
import time, numpy as np
from scipy.linalg import blas
w = np.random.default_rng(1).standard_normal((${rows}, ${cols})).astype(np.float32)
w64 = w.astype(np.float64)
def rate(f):
    f()
    runs = []
    for _ in range(3):
        t0 = time.process_time(); f(); runs.append(time.process_time() - t0)
    return 2 * ${rows} * ${rows} * ${cols} / sorted(runs)[1] / 1e9
print(rate(lambda: w @ w.T), rate(lambda: blas.ssyrk(1.0, w)), rate(lambda: w64 @ w64.T))`;
  const r = spawnSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '1' } });
  if (r.status !== 0) return undefined;
  const [sgemm, ssyrk, dgemm] = r.stdout.trim().split(' ').map(Number);
  return { sgemm, ssyrk, dgemm };
}

/** Median CPU seconds of `runs` calls. */
async function cpuSeconds(f: () => unknown, runs: number): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.cpuUsage();
    await f();
    const used = process.cpuUsage(t0);
    t.push((used.user + used.system) / 1e6);
  }
  return t.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

/** GFLOP/s of the register-only loop: 12 vector multiply-adds of 4 lanes a step (96 flops). */
async function ceiling(kernel: GemmKernel): Promise<number> {
  for (let i = 0; i < 200; i++) kernel.peak(10_000); // past the baseline compiler
  return (1000 * 100_000 * 96) / (await cpuSeconds(() => { for (let i = 0; i < 1000; i++) kernel.peak(100_000); }, 3)) / 1e9;
}

async function main(): Promise<void> {
  const variants: [string, GemmKernel][] = [['plain', new GemmKernel(false)]];
  if (hasFusedMultiplyAdd()) variants.push(['fused', new GemmKernel(true)]);
  else console.log('relaxed SIMD (fused multiply-add) is not available in this engine');
  console.log(`load average ${process.platform === 'linux' ? (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ') : '-'}`);
  for (const [name, kernel] of variants) console.log(`register-only SIMD128 loop (${name}): ${(await ceiling(kernel)).toFixed(1)} GFLOP/s`);
  console.log('\nW·Wᵀ, GFLOP/s counting 2·n²·k (the full product, as sgemm computes it; the Gram computes half)');
  const header = ['size', 'variant', 'Gram', 'f32 gemm', 'f64 gemm', 'JS Gram', 'sgemm', 'ssyrk', 'dgemm', 'Gram/sgemm', 'Gram/ssyrk', 'f64/dgemm'];
  console.log(header.map((h) => h.padStart(11)).join(''));
  for (const [rows, cols] of SIZES) {
    const w = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.7) * 0.05);
    const w64 = Float64Array.from(w);
    const flops = 2 * rows * rows * cols;
    const peer = numpyGflops(rows, cols);
    const js = rows <= 512 ? flops / (await cpuSeconds(() => gramOfSmallerSide(w, rows, cols), 1)) / 1e9 : NaN;
    for (const [name, kernel] of variants) {
      const gram = new GramKernel(kernel);
      const ours = flops / (await cpuSeconds(() => gram.gram(w, rows, cols), 3)) / 1e9;
      const c32 = new Float32Array(rows * rows);
      const f32 = flops / (await cpuSeconds(() => kernel.gemm(1, rows, rows, cols, { data: w, stride: cols }, { data: w, stride: cols, transposed: true }, { data: c32, stride: rows }), 3)) / 1e9;
      const c64 = new Float64Array(rows * rows);
      const f64 = flops / (await cpuSeconds(() => kernel.gemm(1, rows, rows, cols, { data: w64, stride: cols }, { data: w64, stride: cols, transposed: true }, { data: c64, stride: rows }), 3)) / 1e9;
      const pct = (a: number, b: number | undefined): string => (b ? `${((100 * a) / b).toFixed(0)}%` : '-');
      const cells = [`${rows}×${cols}`, name, ours.toFixed(2), f32.toFixed(2), f64.toFixed(2), js.toFixed(2), peer?.sgemm.toFixed(1) ?? '-', peer?.ssyrk.toFixed(1) ?? '-', peer?.dgemm.toFixed(1) ?? '-', pct(ours, peer?.sgemm), pct(ours, peer?.ssyrk), pct(f64, peer?.dgemm)];
      console.log(cells.map((c) => c.padStart(11)).join(''));
    }
  }
}

void main();
