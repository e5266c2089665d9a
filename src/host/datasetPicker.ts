/** Asks what to check accuracy on: synthetic inputs (with shapes for symbolic dims), NumPy data, or an image folder. */
import * as vscode from 'vscode';
import { graphValues, parseShape } from '../core/onnx/graphValues';
import { DEFAULT_PREPROCESS, type DatasetSpec } from '../eval/dataset';
import type { EditorSession } from './editorSession';

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
    return shapes && { kind: 'synthetic', samples: 64, seed: 1, shapes };
  }
  const picked = await vscode.window.showOpenDialog({ canSelectFiles: choice.source === 'numpy', canSelectFolders: true, canSelectMany: false, filters: choice.source === 'numpy' ? { NumPy: ['npz', 'npy'] } : undefined });
  if (!picked?.[0]) return undefined;
  if (choice.source === 'numpy') return { kind: 'numpy', path: picked[0].fsPath };
  return { kind: 'images', root: picked[0].fsPath, preprocess: DEFAULT_PREPROCESS };
}

/** Every dim of the model's symbolic inputs, offering the last answers again. */
async function askShapes(session: EditorSession): Promise<Record<string, number[]> | undefined> {
  const known = session.shapes;
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
  return shapes;
}
