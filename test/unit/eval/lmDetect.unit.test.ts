/**
 * A language model is told from its graph: int64 ids [batch, seq] indexing V embedding rows and
 * logits [batch, seq, V]; a token classifier ([batch, seq, labels]) is not one. `eval` and
 * `sensitivity` without --task then score the fixture GPT by perplexity and next-token
 * agreement, not as CTC steps, and --task TASK still chooses per-output metrics.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { chooseTask, languageModelReason } from '../../../src/eval/lmDetect';
import { openModel, parseModel } from '../../../src/core/onnx/model';
import { DataType } from '../../../src/core/onnx/dataTypes';
import type { ValueInfoProto } from '../../../src/core/onnx/proto';
import { encodeModel, floatTensor, graph, model, node } from '../../helpers/modelBuilder';
import { repoRoot } from '../../helpers/paths';

const VOCAB = 50;
const symbolic = (name: string, elemType: number, dims: (number | string)[]): ValueInfoProto => ({
  name, type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } }, metadataProps: [],
});

/** ids → embedding [VOCAB, 4] → a head of `classes` scores per token. */
function tokenModel(classes: number) {
  const g = graph(
    [node('Gather', ['table', 'input_ids'], ['h']), node('MatMul', ['h', 'head'], ['logits'])],
    [floatTensor('table', [VOCAB, 4], new Array<number>(VOCAB * 4).fill(0.5)), floatTensor('head', [4, classes], new Array<number>(4 * classes).fill(0.25))],
    [symbolic('input_ids', DataType.Int64, ['batch', 'seq'])],
    [symbolic('logits', DataType.Float, ['batch', 'seq', classes])],
  );
  return parseModel(encodeModel(model(g, 13))).proto;
}

test('a language model by its graph: ids indexing V rows, logits over V; a token classifier is not one', () => {
  assert.match(languageModelReason(tokenModel(VOCAB))!, /^input_ids int64 \[batch, seq\] indexes 50 tokens and logits is \[batch, seq, 50\]: a language model/);
  assert.equal(languageModelReason(tokenModel(9)), undefined);
  assert.match(languageModelReason(openModel(path.join(repoRoot, 'test/fixtures/gpt/tiny-gpt.onnx')).proto)!, /indexes 256 tokens and logits is \[batch, seq, 256\]/);
});

const gpt = path.join(repoRoot, 'test/fixtures/gpt');
const evalGpt = (...extra: string[]) =>
  spawnSync(process.execPath, [path.join(repoRoot, 'dist/cli.js'), 'eval', path.join(gpt, 'tiny-gpt.onnx'), '--baseline', path.join(gpt, 'tiny-gpt.onnx'), '--data', path.join(gpt, 'heldout-windows.npz'), '--limit', '8', ...extra], { encoding: 'utf8' });

test('eval without --task scores the GPT as a language model (said why); --task sequence keeps CTC metrics', () => {
  const r = evalGpt('--json');
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.lm.agreement, 1);
  assert.match(j.lm.why, /a language model/);
  assert.equal(j.tasks, undefined);
  const text = evalGpt();
  assert.doesNotMatch(text.stdout, /decoded sequence agreement|--task dense/);
  assert.match(text.stdout, /Scored as a language model: .*\nperplexity /);
  const ctc = JSON.parse(evalGpt('--task', 'sequence', '--json').stdout);
  assert.equal(ctc.lm, undefined);
  assert.equal(ctc.tasks[0].task, 'sequence');
});

test('sensitivity without --task ranks the GPT\'s layers by the perplexity each adds', () => {
  const step = JSON.stringify({ transform: 'quantize', dtype: 'int4', layers: ['/head/*'] });
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist/cli.js'), 'sensitivity', path.join(gpt, 'tiny-gpt.onnx'), '--transform', step, '--data', path.join(gpt, 'heldout-windows.npz'), '--limit', '8', '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.match(j.languageModel, /a language model/);
  assert.equal(typeof j.baselinePerplexity, 'number');
  assert.equal(typeof j.layers[0].perplexityDelta, 'number');
});

test('chooseTask: lm with its reason for a language model; a task the caller names wins; nothing for other models', () => {
  const gpt = openModel(path.join(repoRoot, 'test/fixtures/gpt/tiny-gpt.onnx')).proto;
  const chosen = chooseTask(gpt);
  assert.equal(chosen.task, 'lm');
  assert.match(chosen.why ?? '', /a language model/);
  assert.deepEqual(chooseTask(gpt, 'lm'), { task: 'lm' });
  assert.deepEqual(chooseTask(gpt, undefined, { logits: 'dense' }), { task: undefined });
  assert.deepEqual(chooseTask(openModel(path.join(repoRoot, 'samples/digits-cnn.onnx')).proto), {});
});
