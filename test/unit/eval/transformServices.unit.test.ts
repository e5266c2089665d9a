/** Where calibration inputs come from, for the CLI and the editor alike. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { calibrationFromDataset, calibrationSource } from '../../../src/eval/transformServices';
import type { CalibrationSettings } from '../../../src/transforms/recipe';

const settings = (more: Partial<CalibrationSettings> = {}): CalibrationSettings => ({ samples: 8, percentile: 99.99, method: 'minmax', reduceRange: false, ...more }) as CalibrationSettings;

test("a step's data is resolved from the caller's folder; otherwise the default data; otherwise random inputs", () => {
  const root = path.resolve('/models');
  assert.deepEqual(calibrationSource(settings({ data: 'calib.npz' }), { relativeTo: root, data: '/data/test.npz' }), { data: path.join(root, 'calib.npz'), shapes: undefined });
  assert.deepEqual(calibrationSource(settings(), { relativeTo: root, data: '/data/test.npz' }), { data: '/data/test.npz', shapes: undefined });
  assert.deepEqual(calibrationSource(settings(), { relativeTo: root, shapes: { x: [1, 3] } }), { shapes: { x: [1, 3] } });
  assert.deepEqual(calibrationSource(settings({ shapes: { x: [1, 4] } }), { relativeTo: root, shapes: { x: [1, 3] } }), { shapes: { x: [1, 4] } });
});

test("the accuracy checks' dataset: NumPy data calibrates, synthetic data gives shapes, images do not", () => {
  assert.deepEqual(calibrationFromDataset('/m', { kind: 'numpy', path: '/d/test.npz' }), { relativeTo: '/m', data: '/d/test.npz' });
  assert.deepEqual(calibrationFromDataset('/m', { kind: 'synthetic', samples: 4, seed: 1, shapes: { x: [1, 2] } }), { relativeTo: '/m', shapes: { x: [1, 2] } });
  assert.deepEqual(calibrationFromDataset('/m', { kind: 'images', root: '/i', preprocess: {} as never }), { relativeTo: '/m' });
  assert.deepEqual(calibrationFromDataset('/m', undefined), { relativeTo: '/m' });
});
