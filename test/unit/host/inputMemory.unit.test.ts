/** Answers about a model's synthetic inputs are remembered per model file, across sessions (the extension's global state). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { rememberInputs, rememberedInputs, useInputMemory } from '../../../src/host/inputMemory';

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
