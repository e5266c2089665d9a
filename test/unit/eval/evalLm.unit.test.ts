/**
 * `eval --task lm` on our GPT fixture: onnxruntime's perplexity over the held-back windows equals
 * PyTorch's (stored by make_tiny_gpt.py); a model against itself agrees on every next token.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runEval } from '../../../src/cli/evalCommand';
import { openModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
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

test('eval counts a model\'s external data in its size (the .onnx alone is a few KiB of graph)', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'eval-external-'));
  try {
    const inline = path.join(dir, 'tiny-gpt.onnx');
    const external = path.join(tmp, 'tiny-gpt-external.onnx');
    await saveModel(openModel(inline), external, { externalData: 'always' });
    let text = '';
    const report = await runEval(
      external,
      { baseline: inline, dataset: { kind: 'numpy', path: path.join(dir, 'test-windows.npz') }, limit: 2, task: 'lm', batchSize: 2, threads: 1, optimization: 'all', timeoutSeconds: 600, json: false },
      (t) => (text += t),
    );
    const { candidate, baseline } = report;
    assert.equal(baseline!.dataBytes, 0);
    assert.ok(candidate.dataBytes > 0.9 * baseline!.fileBytes, `${candidate.dataBytes} bytes of external data`);
    assert.ok(candidate.fileBytes < 0.1 * baseline!.fileBytes);
    assert.match(text, / \+ [\d.]+ MiB external data/);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('eval --task lm on one window says it has no interval (the bootstrap over one window is NaN)', async () => {
  const model = path.join(dir, 'tiny-gpt.onnx');
  let text = '';
  await runEval(
    model,
    { baseline: model, dataset: { kind: 'numpy', path: path.join(dir, 'test-windows.npz') }, limit: 1, task: 'lm', batchSize: 1, threads: 1, optimization: 'all', timeoutSeconds: 600, json: false },
    (t) => (text += t),
  );
  assert.match(text, /perplexity change \+0\.000, no interval from a single window/);
  assert.doesNotMatch(text, /NaN/);
});
