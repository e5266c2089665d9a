/** Answers about a model's synthetic inputs are remembered per model file, across sessions (the extension's global state). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { rememberInputs, rememberedCalibration, rememberedInputs, useInputMemory } from '../../../src/host/inputMemory';

type Memento = Parameters<typeof useInputMemory>[0];

function memento(): Memento {
  const data = new Map<string, unknown>();
  return {
    keys: () => [...data.keys()],
    get: <T>(key: string, fallback?: T) => (data.has(key) ? (data.get(key) as T) : fallback),
    update: async (key: string, value: unknown) => void data.set(key, JSON.parse(JSON.stringify(value))),
  } as Memento;
}

test('shapes and values are kept per model and merged; the most recent 200 models are kept', () => {
  useInputMemory(memento());
  assert.deepEqual(rememberedInputs('/m/vad.onnx'), { shapes: {}, values: {} });
  rememberInputs('/m/vad.onnx', { shapes: { input: [1, 512] } });
  rememberInputs('/m/vad.onnx', { values: { sr: 16000 } });
  rememberInputs('/m/other.onnx', { values: { sr: 8000 } });
  assert.deepEqual(rememberedInputs('/m/vad.onnx'), { shapes: { input: [1, 512] }, values: { sr: 16000 } });
  assert.deepEqual(rememberedInputs('/m/other.onnx').values, { sr: 8000 });
  for (let i = 0; i < 250; i++) rememberInputs(`/m/${i}.onnx`, { values: { n: i } });
  assert.deepEqual(rememberedInputs('/m/249.onnx').values, { n: 249 });
  assert.deepEqual(rememberedInputs('/m/vad.onnx'), { shapes: {}, values: {} }, 'the oldest are dropped');
});

test('the calibration data chosen for a model comes back while its file exists; going back to the checks forgets it', () => {
  useInputMemory(memento());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-memory-'));
  const data = path.join(dir, 'calib.npz');
  fs.writeFileSync(data, 'x');
  rememberInputs('/m/a.onnx', { shapes: { x: [1, 3] } });
  rememberInputs('/m/a.onnx', { calibration: data });
  assert.deepEqual(rememberedCalibration('/m/a.onnx'), { kind: 'numpy', path: data });
  assert.deepEqual(rememberedInputs('/m/a.onnx').shapes, { x: [1, 3] }, 'other answers kept');
  rememberInputs('/m/a.onnx', { values: { sr: 1 } });
  assert.equal(rememberedInputs('/m/a.onnx').calibration, data, 'kept across other answers');
  fs.rmSync(data);
  assert.equal(rememberedCalibration('/m/a.onnx'), undefined, 'a file that is gone is not offered');
  rememberInputs('/m/a.onnx', { calibration: '' });
  assert.equal(rememberedCalibration('/m/a.onnx'), undefined);
  fs.rmSync(dir, { recursive: true });
});
