/**
 * The eigenvalues behind the low-rank figures (issue 17): seconds to reduce an n × n Gram matrix
 * to tridiagonal form and take its eigenvalues, for n = 256, 512, 1024, 2048, with our unblocked
 * Householder reduction (its O(n²) loops in WebAssembly), our blocked one (tridiagKernel) and
 * numpy.linalg.eigvalsh (LAPACK dsyevd through OpenBLAS) with 1 and 2 threads on the same matrix,
 * alternating, medians; also the ranks at 90/95/99 % energy of each, which must be equal.
 * The Gram is of a square matrix of bell-shaped noise (the editor bench's weights).
 * Run: node dist/bench/tridiagBench.js [RUNS] [N...]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rankForEnergy, symmetricEigenvalues } from '../src/analyzers/lowRank';
import { GramKernel } from '../src/analyzers/wasm/gramKernel';
import { ranAlone } from './ranAlone';
import { blockedEigenvalues } from '../src/analyzers/tridiagonal';

const NUMPY = `
import sys, time, json, numpy as np
n = int(sys.argv[2]); g = np.fromfile(sys.argv[1], dtype=np.float64).reshape(n, n)
t0 = time.perf_counter(); e = np.linalg.eigvalsh(g); s = time.perf_counter() - t0
print(json.dumps({"seconds": s, "values": e.tolist()}))`;

function noise(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
  for (let i = 0; i < n; i++) out[i] = (next() + next() + next() + next() - 2) * 0.05;
  return out;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function ranks(values: ArrayLike<number>): string {
  const energies = Float64Array.from(values, (x) => Math.max(0, x)).sort().reverse();
  const e = { energies, rows: energies.length, cols: energies.length };
  return [0.9, 0.95, 0.99].map((f) => rankForEnergy(e, f)).join('/');
}

async function main(): Promise<void> {
  const [runsArg, ...sizes] = process.argv.slice(2);
  const runs = runsArg ? Number(runsArg) : 3;
  const ns = sizes.length > 0 ? sizes.map(Number) : [256, 512, 1024, 2048];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tridiag-bench-'));
  const gramKernel = new GramKernel();
  console.log(`tridiagonal reduction + eigenvalues of an n × n Gram matrix, median of ${runs} (alternating), load ${os.loadavg()[0].toFixed(2)}`);
  console.log('     n   unblocked s   blocked s   numpy 1 thread s   numpy 2 threads s   unblocked/blocked   numpy1/blocked   ranks 90/95/99 (blocked; numpy)');
  try {
    for (const n of ns) {
      const { g: view } = await gramKernel.gram(noise(n * n, n), n, n);
      const g = Float64Array.from(view);
      const file = path.join(tmp, `g${n}.f64`);
      fs.writeFileSync(file, new Uint8Array(g.buffer));
      const times = { old: [] as number[], blocked: [] as number[], np1: [] as number[], np2: [] as number[] };
      let blockedValues: Float64Array = new Float64Array(0);
      let numpyValues: number[] = [];
      for (let r = 0; r < runs; r++) {
        // The unblocked reduction works on the Gram kernel's memory, as the analysis ran it.
        const { g: inKernel, scratch } = await gramKernel.gram(new Float32Array(n * n), n, n);
        inKernel.set(g);
        let t0 = process.hrtime.bigint();
        await symmetricEigenvalues(inKernel, n, undefined, gramKernel.loops, scratch);
        times.old.push(Number(process.hrtime.bigint() - t0) / 1e9);
        t0 = process.hrtime.bigint();
        blockedValues = await blockedEigenvalues(g, n);
        times.blocked.push(Number(process.hrtime.bigint() - t0) / 1e9);
        for (const threads of ['1', '2'] as const) {
          const p = spawnSync('/usr/bin/python3', ['-c', NUMPY, file, String(n)], { encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: threads }, maxBuffer: 1 << 28 });
          if (p.status !== 0) throw new Error(p.stderr);
          const out = JSON.parse(p.stdout) as { seconds: number; values: number[] };
          (threads === '1' ? times.np1 : times.np2).push(out.seconds);
          numpyValues = out.values;
        }
      }
      const [o, b, p1, p2] = [median(times.old), median(times.blocked), median(times.np1), median(times.np2)];
      console.log(
        `${String(n).padStart(6)} ${o.toFixed(3).padStart(13)} ${b.toFixed(3).padStart(11)} ${p1.toFixed(3).padStart(18)} ${p2.toFixed(3).padStart(19)} ${`${(o / b).toFixed(2)}x`.padStart(19)} ${`${(p1 / b).toFixed(2)}x`.padStart(16)}   ${ranks(blockedValues)}; ${ranks(numpyValues)}`,
      );
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (ranAlone('tridiagBench')) void main();
