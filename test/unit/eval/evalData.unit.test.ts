/**
 * Evaluation data that cannot be scored honestly is refused before it yields a number: labels that
 * do not match the samples one to one, class ids outside the model's classes (999, -5, 2^62 would
 * all read as top-5 hits), no samples at all, a .npy of an unknown format version.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { parseNpy } from '../../../src/core/npy';
import { writeNpy } from '../../helpers/npyWrite';
import { repoRoot, tempDir } from '../../helpers/paths';

const fixtures = path.join(repoRoot, 'test/fixtures');
const runner = new OrtProcess();
test.after(() => runner.dispose());

const evaluate = (dir: string) =>
  runner.run({
    kind: 'evaluate',
    candidate: path.join(fixtures, 'classifier_candidate.onnx'),
    baseline: path.join(fixtures, 'classifier.onnx'),
    dataset: { kind: 'numpy', path: dir },
    batchSize: 8,
    threads: 1,
    optimization: 'all',
  });

/** An int64 .npy (format 1.0) of the given values. */
function writeInt64Npy(file: string, values: readonly bigint[]): void {
  let header = `{'descr': '<i8', 'fortran_order': False, 'shape': (${values.length},), }`;
  header += ' '.repeat((64 - ((11 + header.length) % 64)) % 64) + '\n';
  const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  fs.writeFileSync(file, Buffer.concat([head, Buffer.from(header, 'latin1'), Buffer.from(BigInt64Array.from(values).buffer)]));
}

function dataFolder(samples: number): string {
  const dir = tempDir();
  writeNpy(path.join(dir, 'x.npy'), new Float32Array(samples * 16).map((_, i) => Math.sin(i)), [samples, 16]);
  return dir;
}

test('labels must match the samples one to one and lie within the model classes', async () => {
  const dir = dataFolder(8);
  writeInt64Npy(path.join(dir, 'labels.npy'), Array.from({ length: 100 }, () => 1n));
  await assert.rejects(evaluate(dir), /has 100 labels for 8 samples/);
  for (const [bad, shown] of [[999n, /outside the model's \d+ classes/], [-5n, /label 3 is -5/], [2n ** 62n, /label 3 is 4611686018427387904/]] as const) {
    writeInt64Npy(path.join(dir, 'labels.npy'), [0n, 1n, 2n, bad, 0n, 1n, 2n, 0n]);
    await assert.rejects(evaluate(dir), shown, String(bad));
  }
  writeInt64Npy(path.join(dir, 'labels.npy'), [0n, 1n, 2n, 1n, 0n, 1n, 2n, 0n]);
  assert.equal((await evaluate(dir)).result.samples, 8);
});

test('data with no samples is refused, not scored as full agreement', async () => {
  await assert.rejects(evaluate(dataFolder(0)), /holds no samples/);
});

test('a .npy of an unknown format version is refused', () => {
  const dir = dataFolder(2);
  const bytes = fs.readFileSync(path.join(dir, 'x.npy'));
  bytes[6] = 9;
  assert.throws(() => parseNpy(bytes), /format version 9/);
});
