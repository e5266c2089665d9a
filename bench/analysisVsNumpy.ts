/**
 * `npm run bench` (issue 17): the whole analysis as a user runs it, `onnx-compress analyze MODEL
 * --json` (and `--no-redundancy`), against bench/analysis_numpy.py computing the same per-layer
 * figures with onnx + numpy (OpenBLAS), both as whole processes, alternating, medians. Also checks
 * that the two agree: ranks equal, INT8/INT4 per-channel SQNR within 0.1 dB.
 * Goals: full analysis >= 2x faster than the script; statistics only >= 3x.
 * Run alone: node dist/bench/analysisVsNumpy.js [RUNS] [MODEL...] (default: the largest fetched
 * model and the generated 44M-weight FLOAT16 conv model, bench/convModel.ts).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONV_MODEL_FILE, writeConvModel } from './convModel';
import { ranAlone } from './ranAlone';

const PYTHON = '/usr/bin/python3';

interface Run {
  seconds: number;
  stdout: string;
}

function run(command: string, args: string[]): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${path.basename(command)} ${args.join(' ')} failed: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
  return { seconds, stdout: r.stdout };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface OurLayer {
  name: string;
  redundancy?: { rank90: number | null; rank95: number | null; rank99: number | null; int8SqnrDb: number; int4SqnrDb: number } | null;
}
interface PeerLayer {
  name: string;
  rank90?: number;
  rank95?: number;
  rank99?: number;
  int8SqnrDb?: number;
  int4SqnrDb?: number;
}

/** Where our figures and the script's disagree: ranks must be equal, SQNR within 0.1 dB. */
export function disagreements(ours: OurLayer[], peer: PeerLayer[]): string[] {
  const byName = new Map(ours.map((l) => [l.name, l]));
  const out: string[] = [];
  for (const p of peer) {
    const r = byName.get(p.name)?.redundancy;
    if (p.rank90 === undefined || !r) continue;
    for (const key of ['rank90', 'rank95', 'rank99'] as const) if (r[key] !== null && r[key] !== p[key]) out.push(`${p.name} ${key}: ours ${r[key]}, numpy ${p[key]}`);
    for (const key of ['int8SqnrDb', 'int4SqnrDb'] as const) if (Math.abs(r[key] - p[key]!) > 0.1) out.push(`${p.name} ${key}: ours ${r[key].toFixed(3)}, numpy ${p[key]!.toFixed(3)}`);
  }
  return out;
}

export function benchAnalysisVsNumpy(models: readonly string[], runs = 3): void {
  // Its peer needs Debian's python3-numpy and python3-onnx (with libopenblas0-pthread behind numpy).
  const peer = fs.existsSync(PYTHON) ? spawnSync(PYTHON, ['-c', 'import numpy, onnx'], { encoding: 'utf8' }) : undefined;
  if (peer?.status !== 0) {
    const why = peer ? (peer.stderr.trim().split('\n').pop() ?? '') : `${PYTHON} is missing`;
    console.log(`analysis vs numpy: skipped, ${why} (apt-get install python3-numpy python3-onnx libopenblas0-pthread)`);
    return;
  }
  const cli = path.join(__dirname, '..', 'cli.js');
  const script = path.resolve('bench/analysis_numpy.py');
  console.log(`analysis as whole processes (median of ${runs}, alternating): onnx-compress analyze --json vs bench/analysis_numpy.py (numpy + OpenBLAS)`);
  console.log('model                          weights MB  mode            ours s   numpy s   numpy/ours   figures');
  for (const model of models) {
    for (const mode of ['full', 'no-redundancy'] as const) {
      const flag = mode === 'full' ? [] : ['--no-redundancy'];
      const ours: Run[] = [];
      const peer: Run[] = [];
      for (let i = 0; i < runs; i++) {
        ours.push(run(process.execPath, [cli, 'analyze', model, '--json', ...flag]));
        peer.push(run(PYTHON, [script, model, ...flag]));
      }
      let agreement = '';
      if (mode === 'full') {
        const diff = disagreements(JSON.parse(ours[0].stdout).layers, JSON.parse(peer[0].stdout).layers);
        agreement = diff.length === 0 ? 'agree' : `${diff.length} differ: ${diff.slice(0, 3).join('; ')}`;
      }
      const a = median(ours.map((r) => r.seconds));
      const b = median(peer.map((r) => r.seconds));
      console.log(
        [
          path.basename(model).slice(0, 30).padEnd(30),
          (fs.statSync(model).size / 2 ** 20).toFixed(1).padStart(10),
          mode.padEnd(14),
          a.toFixed(2).padStart(8),
          b.toFixed(2).padStart(9),
          `${(b / a).toFixed(2)}x`.padStart(12),
          agreement,
        ].join('  '),
      );
    }
  }
}

/** The models the issue names: the largest fetched real model and the generated FLOAT16 conv model. */
export function defaultAnalysisModels(): string[] {
  const models = path.resolve('.cache/models');
  const listed = JSON.parse(fs.readFileSync('test/fixtures/third-party.json', 'utf8')) as { packages: { files: Record<string, string> }[] };
  const real = listed.packages
    .flatMap((p) => Object.keys(p.files))
    .map((f) => path.join(models, path.basename(f)))
    .filter((f) => f.endsWith('.onnx') && fs.existsSync(f))
    .sort((x, y) => fs.statSync(y).size - fs.statSync(x).size);
  return [...real.slice(0, 1), writeConvModel(CONV_MODEL_FILE)];
}

if (ranAlone('analysisVsNumpy')) {
  const [runs, ...models] = process.argv.slice(2);
  benchAnalysisVsNumpy(models.length > 0 ? models : defaultAnalysisModels(), runs ? Number(runs) : 3);
}
