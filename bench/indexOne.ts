/**
 * One measurement in a fresh process (so peak RSS is this job's alone):
 *   node dist/bench/indexOne.js read|index FILE RUNS
 * prints JSON { firstMs, medianMs, maxRssBytes }. With RUNS = 0 it opens the file once and only the
 * peak RSS counts (repeated runs in one process can keep the previous run's buffer alive).
 */
import * as fs from 'node:fs';
import { openModel } from '../src/core/onnx/model';

const [mode, file, runsArg] = process.argv.slice(2);
const runs = Number(runsArg ?? 5);
const times: number[] = [];

/** In its own frame, so nothing of one run is still referenced while the next allocates. */
function once(): number {
  return mode === 'read' ? fs.readFileSync(file).length : openModel(file).index.tensors.length;
}

const big = fs.statSync(file).size > 100 * 1024 * 1024;
let sink = 0;
let first = 0;
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20));

async function main(): Promise<void> {
  for (let i = 0; i < Math.max(runs, 0) + 1; i++) {
    const t0 = process.hrtime.bigint();
    sink += once();
    const t1 = process.hrtime.bigint();
    if (i === 0) first = Number(t1 - t0) / 1e6;
    else times.push(Number(t1 - t0) / 1e6); // the first run is cold: the JIT has not warmed up
    // Big files: let the previous run's buffer actually go before the next run allocates.
    // (Small ones skip this: a forced full GC between runs discards warmed-up code.)
    if (big) {
      await settle();
      (globalThis as { gc?: () => void }).gc?.();
      await settle();
    }
  }
  times.sort((a, b) => a - b);
  process.stdout.write(JSON.stringify({ firstMs: first, medianMs: times[Math.floor(times.length / 2)] ?? 0, maxRssBytes: process.resourceUsage().maxRSS * 1024, sink }));
}

void main();
