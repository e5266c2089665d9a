/**
 * `eval --task lm` on our GPT fixture: onnxruntime's perplexity over the held-back windows equals
 * PyTorch's (stored by make_tiny_gpt.py); a model against itself agrees on every next token.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { runEval } from '../../../src/cli/evalCommand';
import { readJson, repoRoot } from '../../helpers/paths';

const dir = path.join(repoRoot, 'test/fixtures/gpt');

test('eval --task lm: the fixture GPT\'s perplexity in onnxruntime is PyTorch\'s', async () => {
  const reference = readJson<{ perplexity: number; predictedTokens: number }>(path.join(dir, 'reference.json'));
  const model = path.join(dir, 'tiny-gpt.onnx');
  const report = await runEval(
    model,
    { baseline: model, dataset: { kind: 'numpy', path: path.join(dir, 'test-windows.npz') }, task: 'lm', batchSize: 16, threads: 1, optimization: 'all', timeoutSeconds: 600, json: true },
    () => undefined,
  );
  const lm = report.lm!;
  assert.equal(lm.tokens, reference.predictedTokens);
  assert.ok(Math.abs(lm.candidate.perplexity / reference.perplexity - 1) < 1e-3, `${lm.candidate.perplexity} vs PyTorch ${reference.perplexity}`);
  assert.equal(lm.agreement, 1);
  assert.ok(lm.klDivergence! < 1e-9);
});
