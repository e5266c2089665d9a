/**
 * `--provider NAME` is tried before the CPU one: a provider that cannot start leaves the CPU one
 * with a note saying so (as the help says), and a name onnxruntime-node does not know is an error.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { checkProviders, startSession } from '../../../src/eval/providers';
import { repoRoot } from '../../helpers/paths';

test('a provider that cannot start falls back to the CPU one, with a one-line note', async () => {
  const tried: string[][] = [];
  const create = async (p: string[]) => {
    tried.push(p);
    if (p.includes('cuda')) throw new Error('OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library\nmore detail');
    return 'session';
  };
  const s = await startSession(create, ['cuda']);
  assert.deepEqual(tried, [['cuda', 'cpu'], ['cpu']]);
  assert.equal(s.session, 'session');
  assert.deepEqual(s.providers, ['cpu']);
  assert.equal(s.note, '--provider cuda could not start (OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library): ran on the CPU provider');
  const ok = await startSession(async (p: string[]) => p.join('+'), ['cuda']);
  assert.deepEqual([ok.session, ok.note], ['cuda+cpu', undefined]);
  // The CPU alone has nothing to fall back to: its error stands.
  await assert.rejects(startSession(async () => { throw new Error('bad model'); }, []), /bad model/);
});

test('a provider name this onnxruntime-node lacks is an error listing those it has', () => {
  assert.throws(() => checkProviders(['imaginary'], ['cpu', 'cuda']), { message: "execution provider 'imaginary' is not in this onnxruntime-node (it has cpu, cuda)" });
  checkProviders(['cuda'], ['cpu', 'cuda']);
});

test('cli eval --provider cuda runs (on CUDA, or on the CPU with the note) instead of failing', () => {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'dist/cli.js'), 'eval', path.join(repoRoot, 'test/fixtures/dtypes/mlp_float.onnx'), '--provider', 'cuda', '--samples', '2'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^(--provider cuda could not start \(.+\): ran on the CPU provider\n)?2 synthetic inputs/);
});
