/**
 * Calibration data of its own for GPTQ and static quantization: the form's "Choose…" and the
 * command `onnxCompress.chooseCalibrationData`. Without one, calibration uses the last accuracy
 * check's data (or random inputs). The choice is checked against the model's inputs at once and
 * remembered per model file (inputMemory.ts), so it comes back after a restart.
 */
import * as vscode from 'vscode';
import type { DatasetSpec } from '../eval/dataset';
import { loadCalibrationFeeds } from '../eval/calibrationData';
import type { EditorSession } from './editorSession';
import type { OnnxEditorProvider } from './onnxEditorProvider';
import { rememberInputs } from './inputMemory';

/** What the command may be given instead of asking: a NumPy file or folder, or 'checks' to fall back to the accuracy checks' data. */
type Given = vscode.Uri | 'checks';

export function registerCalibrationCommand(context: vscode.ExtensionContext, editor: OnnxEditorProvider): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('onnxCompress.chooseCalibrationData', async (given?: Given) => {
      const session = editor.sessionForCommand();
      return session && chooseCalibration(session, given);
    }),
  );
}

/** Asks (unless given) and sets the session's calibration data; returns it, or undefined when nothing changed. */
export async function chooseCalibration(session: EditorSession, given?: Given): Promise<DatasetSpec | 'checks' | undefined> {
  const choice = given ?? (await ask(session));
  if (!choice) return undefined;
  const model = session.document.session.file;
  if (choice === 'checks') {
    session.setCalibrationData(undefined);
    rememberInputs(model, { calibration: '' });
    return 'checks';
  }
  const spec: DatasetSpec = { kind: 'numpy', path: choice.fsPath };
  const problem = unusable(session, spec.path);
  if (problem) {
    void vscode.window.showErrorMessage(`ONNX Compress: ${problem}`);
    return undefined;
  }
  session.setCalibrationData(spec);
  rememberInputs(model, { calibration: spec.path });
  return spec;
}

async function ask(session: EditorSession): Promise<Given | undefined> {
  const items = [
    { label: 'NumPy data…', detail: '.npz with one array per model input, or a folder of <input>.npy files; the first N samples are used', pick: 'file' as const },
    { label: 'The accuracy checks’ data', detail: 'the last Check accuracy… dataset, else random inputs', pick: 'checks' as const },
  ];
  const choice = await vscode.window.showQuickPick(items, { title: `Calibrate GPTQ and static quantization of ${session.document.uri.path.split('/').pop()} on` });
  if (!choice) return undefined;
  if (choice.pick === 'checks') return 'checks';
  const picked = await vscode.window.showOpenDialog({ canSelectFiles: true, canSelectFolders: true, canSelectMany: false, filters: { NumPy: ['npz', 'npy'] }, title: 'Calibration data' });
  return picked?.[0];
}

/** Why this data cannot calibrate the model (read as calibration would, one sample), or undefined. */
function unusable(session: EditorSession, file: string): string | undefined {
  try {
    loadCalibrationFeeds(session.document.session.state.proto, file, 1, session.shapes);
    return undefined;
  } catch (e) {
    return `${file} cannot calibrate this model: ${e instanceof Error ? e.message : String(e)}`;
  }
}
