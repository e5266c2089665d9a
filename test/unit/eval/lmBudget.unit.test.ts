/**
 * Budgets on a language model: judged on next-token top-1 agreement (the figure `eval --task lm`
 * reports), by name through its logits output too, and the plans `sensitivity --task lm` measures
 * against a budget judged the same way (not as CTC-decoded sequences).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { judge } from '../../../src/eval/budgets';
import type { EvaluationResult } from '../../../src/eval/protocol';
import { repoRoot } from '../../helpers/paths';

const run = { latencyMs: { median: 1, p90: 1 }, samplesPerSecond: 1 };
const lmResult: EvaluationResult = {
  samples: 4, description: 'd', synthetic: false, batchSize: 4, candidate: run, baseline: run, agreement: 0.97,
  lm: { output: 'logits', tokens: 100, baseline: { perplexity: 3, meanNll: 1 }, candidate: { perplexity: 3.1, meanNll: 1.1 }, agreement: 0.97, klDivergence: 0.01 },
};

test('a language model\'s budget reads "next-token top-1 agreement", by its logits output too', () => {
  const v = judge(lmResult, [{ kind: 'min-agreement', limit: 0.9 }]);
  assert.equal(v.line, 'PASS: 1 budget check met: next-token top-1 agreement 97.00% meets ≥ 90.00%');
  const named = judge(lmResult, [{ kind: 'min-agreement', limit: 0.98, output: 'logits' }]);
  assert.equal(named.pass, false);
  assert.match(named.line, /^FAIL: 1 of 1 budget checks missed: next-token top-1 agreement 97\.00% misses ≥ 98\.00%/);
  assert.throws(() => judge(lmResult, [{ kind: 'min-agreement', limit: 0.9, output: 'hidden' }]), /no output 'hidden' judged as a language model \(its outputs: logits\)/);
  assert.throws(() => judge(lmResult, [{ kind: 'min-sqnr', limit: 30 }]), /--min-sqnr has nothing to judge in a language model .*--min-agreement, --max-drop/);
});

test('sensitivity --task lm with a budget measures each plan on next-token agreement', () => {
  const gpt = path.join(repoRoot, 'test/fixtures/gpt');
  const step = JSON.stringify({ transform: 'quantize', dtype: 'int4', layers: ['/blocks.3/*'] });
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'dist/cli.js'), 'sensitivity', path.join(gpt, 'tiny-gpt.onnx'), '--transform', step, '--data', path.join(gpt, 'heldout-windows.npz'), '--limit', '16', '--task', 'lm', '--min-agreement', '0.9', '--json'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const b = JSON.parse(r.stdout).plan.budget;
  assert.ok(b.trials.length > 0);
  for (const t of b.trials) {
    assert.deepEqual(t.checks.map((c: { output: string; figure: string }) => `${c.output} ${c.figure}`), ['next-token top-1 agreement']);
  }
  // Four int4 MatMuls of one block keep well over 90% of the next tokens (eval --task lm measures the same figure).
  assert.ok(b.pass && b.layers.length === 4, b.verdict);
});
