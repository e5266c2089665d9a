/**
 * The bundled sample (samples/digits-cnn.onnx and its labelled test set): copied to the
 * extension's storage so edits and saves never touch the installed extension, then opened in
 * the ONNX editor. The walkthrough's buttons run these commands.
 */
import * as vscode from 'vscode';
import type { ReportView } from './reportView';
import { EDITOR_VIEW_TYPE } from './onnxEditorProvider';

const SAMPLE_FILES = ['digits-cnn.onnx', 'digits-test.npz', 'README.md'];

export function registerSampleCommands(context: vscode.ExtensionContext, report: ReportView): void {
  const storage = vscode.Uri.joinPath(context.globalStorageUri, 'sample');
  context.subscriptions.push(
    vscode.commands.registerCommand('onnxCompress.openSample', async (): Promise<vscode.Uri> => {
      await vscode.workspace.fs.createDirectory(storage);
      for (const name of SAMPLE_FILES) {
        const target = vscode.Uri.joinPath(storage, name);
        // A fresh copy of the model each time: the walkthrough starts from the original.
        await vscode.workspace.fs.copy(vscode.Uri.joinPath(context.extensionUri, 'samples', name), target, { overwrite: true });
      }
      const model = vscode.Uri.joinPath(storage, 'digits-cnn.onnx');
      await vscode.commands.executeCommand('vscode.openWith', model, EDITOR_VIEW_TYPE);
      return model;
    }),
    vscode.commands.registerCommand('onnxCompress.checkSampleAccuracy', () =>
      report.checkAccuracy({ kind: 'numpy', path: vscode.Uri.joinPath(storage, 'digits-test.npz').fsPath }),
    ),
  );
}
