/** Sensitivity analysis on the small CNN: ranked layers, a plan that meets its target, a cache per model version; the eval and sensitivity CLIs. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { analyzeSensitivity } from '../../../src/eval/sensitivity';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { parseStep } from '../../../src/transforms/recipe';
import { repoRoot, tempDir } from '../../helpers/paths';
import { smallCnn } from '../../helpers/smallModels';

const runner = new OrtProcess();
test.after(() => runner.dispose());

test('each layer alone, ranked least harmful first; a plan that meets the size target; cached per model version', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'cnn.onnx');
  fs.writeFileSync(file, smallCnn());
  const cacheDir = path.join(dir, 'cache');
  const options = {
    step: parseStep({ transform: 'quantize', dtype: 'int4', granularity: 'per-channel' }),
    dataset: { kind: 'synthetic', samples: 16, seed: 2 } as const,
    limit: 16,
    batchSize: 4,
    threads: 1,
    targetBytes: 8000,
    cacheDir,
  };
  const r = await analyzeSensitivity(file, options, runner);
  const scored = r.layers.filter((l) => !l.skipped);
  assert.deepEqual(scored.map((l) => l.layer).sort(), ['conv1', 'conv2', 'fc1', 'fc2']);
  for (let i = 1; i < scored.length; i++) assert.ok((scored[i - 1].sqnrDb ?? Infinity) >= (scored[i].sqnrDb ?? Infinity));
  assert.ok(r.layers.filter((l) => l.skipped).every((l) => /no weights of rank 2/.test(l.skipped!)));
  assert.ok(r.plan.meetsTarget && r.plan.weightBytesAfter <= 8000, `${r.plan.weightBytesAfter}`);
  assert.ok(r.plan.layers.length >= 1 && r.plan.layers.length < 4);
  assert.equal(r.synthetic, true);
  assert.equal(fs.readdirSync(cacheDir).length, 4);

  // Same model, step and data: every layer comes from the cache (the runner is not even started).
  const idle = new OrtProcess('/nonexistent/runner.js');
  const again = await analyzeSensitivity(file, options, idle);
  assert.deepEqual(again.layers, r.layers);
  // A new model version misses the cache.
  fs.writeFileSync(file, smallCnn({ constantWeight: true }));
  await assert.rejects(analyzeSensitivity(file, options, idle));
});

const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot, 'dist/cli.js'), ...args], { encoding: 'utf8' });

test('cli eval: the JSON the issue names; cli sensitivity writes a plan recipe that apply takes', () => {
  const fixtures = path.join(repoRoot, 'test/fixtures');
  const r = cli('eval', path.join(fixtures, 'classifier_candidate.onnx'), '--baseline', path.join(fixtures, 'classifier.onnx'), '--data', path.join(fixtures, 'classifier_data.npz'), '--limit', '100', '--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.samples, 100);
  for (const side of ['baseline', 'candidate']) {
    assert.equal(typeof j[side].accuracy, 'number');
    assert.equal(typeof j[side].top5, 'number');
    assert.equal(typeof j[side].latencyMs.median, 'number');
    assert.equal(typeof j[side].latencyMs.p90, 'number');
    assert.equal(j[side].fileBytes, fs.statSync(path.join(fixtures, side === 'baseline' ? 'classifier.onnx' : 'classifier_candidate.onnx')).size);
  }
  assert.equal(typeof j.agreement, 'number');
  assert.equal(j.accuracyDelta.ci95.length, 2);
  assert.deepEqual(Object.keys(j.outputs[0]).sort(), ['cosine', 'klDivergence', 'maxAbsError', 'meanAbsError', 'name', 'sqnrDb']);
  const noProvider = cli('eval', path.join(fixtures, 'classifier.onnx'), '--provider', 'imaginary', '--samples', '2');
  assert.equal(noProvider.status, 2);
  assert.match(noProvider.stderr, /onnxruntime: .*imaginary/i);
  const bad = cli('eval', path.join(fixtures, 'classifier.onnx'), '--data', path.join(fixtures, 'arrays.npz'));
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /has no array 'x' for that model input/);

  const dir = tempDir();
  const model = path.join(dir, 'cnn.onnx');
  fs.writeFileSync(model, smallCnn());
  const plan = path.join(dir, 'plan.json');
  const s = cli('sensitivity', model, '--transform', '{"transform": "cluster", "clusters": 4}', '--samples', '8', '--target-ratio', '0.6', '--plan', plan);
  assert.equal(s.status, 0, s.stderr);
  assert.match(s.stdout, /plan: \d layers?,/);
  const out = path.join(dir, 'planned.onnx');
  const applied = cli('apply', model, '--recipe', plan, '--output', out, '--json');
  assert.equal(applied.status, 0, applied.stderr);
  const report = JSON.parse(applied.stdout);
  assert.ok(report.steps[0].bytesAfter <= report.steps[0].bytesBefore * 0.6);
  assert.equal(cli('sensitivity', model).status, 2);
});

test('a plan to an accuracy budget: the most ranked layers whose combined, measured verdict passes', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'cnn.onnx');
  fs.writeFileSync(file, smallCnn());
  const base = {
    step: parseStep({ transform: 'quantize', dtype: 'int4', granularity: 'per-channel' }),
    dataset: { kind: 'synthetic', samples: 16, seed: 2 } as const,
    limit: 16, batchSize: 4, threads: 1, cacheDir: path.join(dir, 'cache'),
  };
  const sqnrOf = (t: { checks: readonly { value: number }[] }) => Math.min(...t.checks.map((c) => c.value));
  // A budget every layer together meets: one trial, all layers.
  const loose = await analyzeSensitivity(file, { ...base, budgets: [{ kind: 'min-sqnr', limit: 0 }] }, runner);
  const all = loose.plan.budget!;
  assert.equal(all.trials.length, 1);
  assert.equal(all.layers.length, 4);
  assert.ok(all.pass);
  // Just above what all four give: the plan backs off to fewer layers, measured to pass.
  const limit = sqnrOf(all.trials[0]) + 0.5;
  const r = await analyzeSensitivity(file, { ...base, budgets: [{ kind: 'min-sqnr', limit }] }, runner);
  const b = r.plan.budget!;
  assert.ok(b.pass && b.layers.length < 4, b.verdict);
  assert.deepEqual(r.plan.layers, b.layers);
  assert.equal(b.trials[0].layers, 4);
  assert.equal(b.trials[0].pass, false);
  const chosen = b.trials.find((t) => t.layers === b.layers.length);
  if (b.layers.length) assert.ok(chosen && sqnrOf(chosen) >= limit, 'the plan itself was measured and passed');
  assert.ok(b.trials.some((t) => t.layers === b.layers.length + 1 && !t.pass), 'one more layer was measured and failed');
  // The plan is the ranked order's prefix, and its recipe step names exactly those layers.
  assert.deepEqual((b.step as { layers: string[] }).layers, b.layers);
  // A budget nothing meets: no layer.
  const none = await analyzeSensitivity(file, { ...base, budgets: [{ kind: 'min-sqnr', limit: 500 }] }, runner);
  assert.deepEqual(none.plan.budget!.layers, []);
});

test('cli sensitivity --task lm on the GPT fixture: layers ranked by the perplexity each adds, the plan by its estimate', () => {
  const gpt = path.join(repoRoot, 'test/fixtures/gpt');
  const reference = JSON.parse(fs.readFileSync(path.join(gpt, 'reference.json'), 'utf8')) as { perplexity: number };
  const step = { transform: 'quantize', dtype: 'int4', blockSize: 32, symmetric: false, format: 'matmulnbits', layers: ['/blocks.0/*', '/head/*'] };
  const cacheless = ['--data', path.join(gpt, 'test-windows.npz'), '--task', 'lm', '--limit', '64', '--target-ratio', '0.9', '--json'];
  const r = cli('sensitivity', path.join(gpt, 'tiny-gpt.onnx'), '--transform', JSON.stringify(step), ...cacheless);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  // All 64 held-back windows: the untransformed perplexity is PyTorch's.
  assert.ok(Math.abs(j.baselinePerplexity / reference.perplexity - 1) < 1e-3, `${j.baselinePerplexity} vs ${reference.perplexity}`);
  const scored = j.layers.filter((l: { skipped?: string }) => !l.skipped) as { layer: string; perplexity: number; perplexityDelta: number }[];
  assert.deepEqual(scored.map((l) => l.layer).sort(), ['/blocks.0/down/MatMul', '/blocks.0/proj/MatMul', '/blocks.0/qkv/MatMul', '/blocks.0/up/MatMul', '/head/MatMul']);
  for (const l of scored) assert.ok(Math.abs(l.perplexity - j.baselinePerplexity - l.perplexityDelta) < 1e-9);
  for (let i = 1; i < scored.length; i++) assert.ok(scored[i - 1].perplexityDelta <= scored[i].perplexityDelta, 'least perplexity added first');
  assert.ok(scored.some((l) => l.perplexityDelta !== 0));
  const chosen = scored.filter((l) => j.plan.layers.includes(l.layer));
  const added = chosen.reduce((n, l) => n + Math.max(0, l.perplexityDelta), 0);
  assert.ok(Math.abs(j.plan.estimatedPerplexity - (j.baselinePerplexity + added)) < 1e-9);
  const text = cli('sensitivity', path.join(gpt, 'tiny-gpt.onnx'), '--transform', JSON.stringify(step), ...cacheless.filter((a) => a !== '--json'));
  assert.match(text.stdout, /by perplexity; 4\.01\d untransformed/);
  assert.match(text.stdout, /estimated perplexity 4\.\d{3}/);
});
