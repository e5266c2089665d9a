// One esbuild run emits every entry point: the extension, the CLI, the tests and the benchmarks.
// Type checking is separate (`tsc --noEmit`); esbuild only strips types.
import * as esbuild from 'esbuild';
import { readdirSync, statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import wabtModule from 'wabt';

// `import bytes from './kernel.wat'` gives the assembled WebAssembly module's bytes (SIMD on);
// `import bytes from './kernel.wat?fma'` the same module with each multiply-then-add of two
// vectors, `(fNxM.add (local.get $acc) (fNxM.mul x y))`, fused into relaxed SIMD's
// `(fNxM.relaxed_madd x y (local.get $acc))` (the caller checks that the engine accepts it).
const wabt = await wabtModule();
const fused = /\((f32x4|f64x2)\.add \(local\.get (\$\w+)\) \(\1\.mul (\(local\.get \$\w+\)) (\(local\.get \$\w+\))\)\)/g;
function assemble(path, text, relaxed) {
  const parsed = wabt.parseWat(path, text, { simd: true, sat_float_to_int: true, relaxed_simd: relaxed });
  parsed.validate();
  const { buffer } = parsed.toBinary({ log: false });
  parsed.destroy();
  return buffer;
}
const watPlugin = {
  name: 'wat',
  setup(build) {
    build.onResolve({ filter: /\.wat\?fma$/ }, ({ path, resolveDir }) => ({ path: join(resolveDir, path.replace(/\?fma$/, '')), namespace: 'wat-fma' }));
    build.onLoad({ filter: /\.wat$/, namespace: 'wat-fma' }, async ({ path }) => {
      const text = (await readFile(path, 'utf8')).replace(fused, '($1.relaxed_madd $3 $4 (local.get $2))');
      return { contents: assemble(path, text, true), loader: 'binary' };
    });
    build.onLoad({ filter: /\.wat$/ }, async ({ path }) => ({ contents: assemble(path, await readFile(path, 'utf8'), false), loader: 'binary' }));
  },
};

const watch = process.argv.includes('--watch');

function filesUnder(dir, suffix) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p, suffix));
    else if (p.endsWith(suffix)) out.push(p);
  }
  return out;
}

rmSync('dist', { recursive: true, force: true });

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  plugins: [watPlugin],
  // Native or host-provided modules are loaded at run time, never bundled.
  external: ['vscode', 'onnxruntime-node', 'eslint', 'sharp'],
};

const builds = [
  // The integration suite, loaded by VS Code's extension host (mocha is resolved at run time).
  { ...common, external: [...common.external, 'mocha'], entryPoints: { index: 'test/integration/index.ts' }, outdir: 'dist/test/integration' },
  // The editor's webview: a browser bundle (chart.js included), no Node built-ins.
  { ...common, platform: 'browser', target: 'es2022', format: 'iife', entryPoints: { editor: 'src/webviews/editor/main.ts', report: 'src/webviews/report/main.ts' }, outdir: 'dist/webviews' },
  { ...common, entryPoints: { extension: 'src/extension.ts' }, outdir: 'dist' },
  { ...common, entryPoints: { cli: 'src/cli/main.ts', start: 'src/cli/startJob.ts', analysisWorker: 'src/analyzers/worker/analysisWorker.ts', ortRunner: 'src/eval/ortRunner.ts' }, outdir: 'dist' },
  {
    ...common,
    entryPoints: Object.fromEntries(
      [...filesUnder('test', '.test.ts'), ...filesUnder('bench', '.ts')].map((f) => [f.replace(/\.ts$/, ''), f]),
    ),
    outdir: 'dist',
  },
];

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
