/** Asks what to check accuracy on: synthetic inputs (with shapes for symbolic dims), NumPy data, or an image folder. */
import * as vscode from 'vscode';
import { graphValues, parseShape } from '../core/onnx/graphValues';
import { DEFAULT_PREPROCESS, type DatasetSpec } from '../eval/dataset';
import type { EditorSession } from './editorSession';
import { vocabularySizes } from '../eval/tokenRanges';
import { rememberInputs, rememberedInputs } from './inputMemory';

export async function pickDataset(session: EditorSession): Promise<DatasetSpec | undefined> {
  const choice = await vscode.window.showQuickPick(
    [
      { label: 'Synthetic inputs', detail: '64 seeded random inputs: agreement and output error only, no accuracy', source: 'synthetic' as const },
      { label: 'NumPy data…', detail: '.npz with inputs (and labels), or a folder of .npy files', source: 'numpy' as const },
      { label: 'Image folder…', detail: 'one sub-folder per class (ImageFolder layout), default ImageNet preprocessing', source: 'images' as const },
    ],
    { title: 'Check accuracy on' },
  );
  if (!choice) return undefined;
  if (choice.source === 'synthetic') {
    const shapes = await askShapes(session);
    const values = shapes && (await askValues(session));
    return shapes && values && { kind: 'synthetic', samples: 64, seed: 1, shapes, values };
  }
  const picked = await vscode.window.showOpenDialog({ canSelectFiles: choice.source === 'numpy', canSelectFolders: true, canSelectMany: false, filters: choice.source === 'numpy' ? { NumPy: ['npz', 'npy'] } : undefined });
  if (!picked?.[0]) return undefined;
  if (choice.source === 'numpy') return { kind: 'numpy', path: picked[0].fsPath };
  return { kind: 'images', root: picked[0].fsPath, preprocess: DEFAULT_PREPROCESS };
}

/** Every dim of the model's symbolic inputs, offering the last answers again (this session's, else the last session's). */
async function askShapes(session: EditorSession): Promise<Record<string, number[]> | undefined> {
  const model = session.document.session.file;
  const known = { ...rememberedInputs(model).shapes, ...session.shapes };
  const shapes: Record<string, number[]> = {};
  for (const input of graphValues(session.document.session.state.proto).inputs) {
    if (input.shape.every((d) => typeof d === 'number')) continue;
    const text = await vscode.window.showInputBox({
      title: `Shape of input '${input.name}' for synthetic data`,
      prompt: `'${input.name}' is [${input.shape.join('×')}] ${input.dataType}: give every dim, e.g. 1x3x224x224`,
      value: (known[input.name] ?? input.shape.map((d) => (typeof d === 'number' ? d : 1))).join('x'),
      validateInput: (t) => {
        const parsed = parseShape(t, input.shape);
        return typeof parsed === 'string' ? parsed : undefined;
      },
    });
    if (text === undefined) return undefined;
    shapes[input.name] = parseShape(text, input.shape) as number[];
  }
  session.shapes = shapes;
  rememberInputs(model, { shapes });
  return shapes;
}

const INTEGER = new Set(['INT64', 'INT32', 'INT16', 'INT8', 'UINT8', 'UINT16', 'UINT32', 'UINT64']);

/**
 * A value for each integer input that synthetic data cannot make up (a sample rate, a count):
 * token ids come from their embedding table, masks and positions are made; the answers are
 * offered again next time, also after a restart (inputMemory.ts).
 */
async function askValues(session: EditorSession): Promise<Record<string, number> | undefined> {
  const proto = session.document.session.state.proto;
  const vocabularies = vocabularySizes(proto);
  const model = session.document.session.file;
  const known = { ...rememberedInputs(model).values, ...session.values };
  const values: Record<string, number> = {};
  for (const input of graphValues(proto).inputs) {
    if (!INTEGER.has(input.dataType.toUpperCase()) || vocabularies[input.name] || /mask|position/i.test(input.name)) continue;
    const text = await vscode.window.showInputBox({
      title: `Value of input '${input.name}' for synthetic data`,
      prompt: `'${input.name}' is [${input.shape.join('×')}] ${input.dataType} and indexes no embedding table: give the value it takes, e.g. a sample rate of 16000`,
      value: String(known[input.name] ?? ''),
      validateInput: (t) => (t.trim() !== '' && Number.isFinite(Number(t)) ? undefined : 'give a number'),
    });
    if (text === undefined) return undefined;
    values[input.name] = Number(text);
  }
  session.values = { ...session.values, ...values };
  rememberInputs(model, { values });
  return values;
}
