/**
 * Messages from the webviews are checked field by field before the host acts on them: a message
 * with a field of the wrong kind is not one of ours (the host ignores it) and the guard never
 * throws, whatever arrives (seeded random values).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { isFromReport, isFromWebview } from '../../../src/shared/protocol';
import { seededRandom } from '../../../src/core/random';

test('well-formed messages pass; a wrong field type does not', () => {
  for (const m of [
    { type: 'ready' },
    { type: 'cancelApply' },
    { type: 'apply', step: { transform: 'prune' } },
    { type: 'selection', layers: ['a', 'b'] },
    { type: 'analyzeLayer', index: 3 },
    { type: 'layerDetail', index: 0 },
    { type: 'preview', id: 7, step: {}, layers: '*' },
    { type: 'preview', id: 7, step: {}, layers: ['conv1'] },
  ]) assert.ok(isFromWebview(m), JSON.stringify(m));
  for (const m of [
    null, 'ready', [], { type: 'nope' }, { type: 'apply', step: null }, { type: 'apply', step: [] }, { type: 'selection', layers: 'a' },
    { type: 'selection', layers: [1] }, { type: 'analyzeLayer', index: -1 }, { type: 'layerDetail', index: 1.5 }, { type: 'layerDetail', index: '2' },
    { type: 'preview', id: 1, step: {}, layers: 'all' }, { type: 'preview', step: {}, layers: '*' }, { type: 'toString' }, { type: '__proto__' },
  ]) assert.equal(isFromWebview(m), false, JSON.stringify(m));
  assert.ok(isFromReport({ type: 'export', format: 'html' }));
  assert.equal(isFromReport({ type: 'export', format: 'exe' }), false);
  assert.equal(isFromReport({ type: 'export' }), false);
});

test('random values never make the guards throw', () => {
  const rand = seededRandom(19);
  const values: unknown[] = [null, undefined, 0, -1, 1.5, NaN, 2 ** 60, '', '*', 'ready', 'apply', 'preview', 'layerDetail', [], ['x'], [1], {}, { toString: 1 }, true];
  const any = (depth = 0): unknown => {
    if (depth < 2 && rand() < 0.3) return Object.fromEntries(['type', 'step', 'layers', 'index', 'id', 'format'].filter(() => rand() < 0.5).map((k) => [k, any(depth + 1)]));
    return values[Math.floor(rand() * values.length)];
  };
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const m = any();
    if (isFromWebview(m)) accepted++;
    isFromReport(m);
  }
  assert.ok(accepted > 0, 'some random messages are well-formed');
});
