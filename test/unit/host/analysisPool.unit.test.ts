/** One analysis pool for the extension: shared, rebuilt only when the wanted size changes. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SharedPool } from '../../../src/host/analysisPool';

test('the pool is shared until the wanted worker count changes; the old one is disposed', () => {
  let wanted = 2;
  const disposed: number[] = [];
  let made = 0;
  const pool = new SharedPool((count) => ({ id: ++made, workerCount: count, dispose: () => void disposed.push(made) }), () => wanted);
  const a = pool.get();
  assert.equal(pool.get(), a);
  wanted = 3;
  const b = pool.get();
  assert.notEqual(b, a);
  assert.equal(b.workerCount, 3);
  assert.equal(disposed.length, 1);
  pool.dispose();
  assert.equal(disposed.length, 2);
});

test('the extension host creates analysis workers in one place only (one pool for the extension)', () => {
  const root = path.resolve(__dirname, '../../../../src');
  const files = [path.join(root, 'extension.ts'), ...fs.readdirSync(path.join(root, 'host')).map((f) => path.join(root, 'host', f))];
  const creating = files.filter((f) => /new AnalysisClient\(/.test(fs.readFileSync(f, 'utf8'))).map((f) => path.relative(root, f));
  assert.deepEqual(creating, [path.join('host', 'analysisPool.ts')]);
});
