/**
 * The onnxruntime child: it writes nothing outside the model's folder (no telemetry under the home
 * folder, no debug log in /tmp), and its load and run errors reach the caller as one line.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { repoRoot, tempDir } from '../../helpers/paths';
import { encodeModel, graph, model, node, tensor, valueInfo } from '../../helpers/modelBuilder';

const job = (candidate: string) =>
  ({ kind: 'evaluate', candidate, dataset: { kind: 'synthetic', samples: 2, seed: 1, shapes: {} }, batchSize: 1, threads: 1, optimization: 'all' }) as const;

test('the child writes no telemetry and no debug log outside the model folder', async () => {
  const home = tempDir();
  const saved = process.env.HOME;
  process.env.HOME = home; // the child inherits it: telemetry would land in home/.cache
  const runner = new OrtProcess();
  try {
    await runner.run(job(path.join(repoRoot, 'test/fixtures/classifier.onnx')));
    const pid = runner.pid!;
    assert.equal(fs.existsSync(`/tmp/mat-debug-${pid}.log`), false, 'no /tmp/mat-debug-<pid>.log');
    assert.deepEqual(fs.readdirSync(home), [], 'nothing under the home folder');
  } finally {
    runner.dispose();
    process.env.HOME = saved;
  }
});

test('a model onnxruntime cannot load fails the job with one line naming the problem', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'unknown-op.onnx');
  fs.writeFileSync(file, encodeModel(model(graph([node('NoSuchOp', ['x'], ['y'])], [], [valueInfo('x', 1, [1, 2])], [valueInfo('y', 1, [1, 2])]))));
  const runner = new OrtProcess();
  try {
    await assert.rejects(runner.run(job(file)), (e: Error) => {
      assert.match(e.message, /NoSuchOp/);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  } finally {
    runner.dispose();
  }
});

test('a run-time error (a shape the model cannot take) fails the job with one line', async () => {
  // Reshape to [4, -1]: a sample of 6 values cannot be split in 4 rows, which only running finds out.
  const file = path.join(tempDir(), 'reshape.onnx');
  const shape = tensor('shape', 7, [2], new Uint8Array(BigInt64Array.from([4n, -1n]).buffer));
  fs.writeFileSync(file, encodeModel(model(graph([node('Reshape', ['x', 'shape'], ['y'])], [shape], [valueInfo('x', 1, [1, 6])], [valueInfo('y', 1, [])]))));
  const runner = new OrtProcess();
  try {
    await assert.rejects(runner.run(job(file)), (e: Error) => {
      assert.match(e.message, /reshape/i);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  } finally {
    runner.dispose();
  }
});
