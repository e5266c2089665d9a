/** LatestJob: a burst of requests runs only the last; a newer request aborts one still running. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LatestJob } from '../../../src/core/latestJob';

const tick = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test('a burst within the quiet time runs only the last request', async () => {
  const job = new LatestJob();
  const started: number[] = [];
  const results = await Promise.all(
    [1, 2, 3, 4].map((n) =>
      job.request(async () => {
        started.push(n);
        return n * 10;
      }, 30),
    ),
  );
  assert.deepEqual(started, [4]);
  assert.deepEqual(results, [undefined, undefined, undefined, 40]);
});

test('a newer request aborts one that is running, whose result is dropped', async () => {
  const job = new LatestJob();
  let sawAbort = false;
  const slow = job.request(async (signal) => {
    await tick(50);
    sawAbort = signal.aborted;
    return 'stale';
  });
  await tick(10); // started
  const fresh = job.request(async () => 'fresh');
  assert.equal(await slow, undefined);
  assert.equal(await fresh, 'fresh');
  await tick(60);
  assert.ok(sawAbort, 'the running job saw its signal aborted');
});

test('errors of the current job reach the caller; those of a superseded one do not', async () => {
  const job = new LatestJob();
  await assert.rejects(
    job.request(async () => {
      throw new Error('broken model');
    }),
    /broken model/,
  );
  const superseded = job.request(async (signal) => {
    await tick(20);
    signal.throwIfAborted();
    return 1;
  });
  await tick(5);
  job.cancel();
  assert.equal(await superseded, undefined);
});
