/**
 * The bundled sample (samples/digits-cnn.onnx and its labelled test set): copied to the
 * extension's storage so edits and saves never touch the installed extension, then opened in
 * the ONNX editor. The walkthrough's buttons run these commands.
 */
import * as vscode from 'vscode';
import type { ReportView } from './reportView';
import { EDITOR_VIEW_TYPE, type OnnxEditorProvider } from './onnxEditorProvider';

const SAMPLE_FILES = ['digits-cnn.onnx', 'digits-test.npz', 'README.md'];

export function registerSampleCommands(context: vscode.ExtensionContext, editor: OnnxEditorProvider, report: ReportView): void {
  const storage = vscode.Uri.joinPath(context.globalStorageUri, 'sample');
  const sampleModel = vscode.Uri.joinPath(storage, 'digits-cnn.onnx');
  context.subscriptions.push(
    vscode.commands.registerCommand('onnxCompress.openSample', async (): Promise<vscode.Uri> => {
      await vscode.workspace.fs.createDirectory(storage);
      for (const name of SAMPLE_FILES) {
        const target = vscode.Uri.joinPath(storage, name);
        // A fresh copy of the model each time: the walkthrough starts from the original.
        await vscode.workspace.fs.copy(vscode.Uri.joinPath(context.extensionUri, 'samples', name), target, { overwrite: true });
      }
      await vscode.commands.executeCommand('vscode.openWith', sampleModel, EDITOR_VIEW_TYPE);
      return sampleModel;
    }),
    vscode.commands.registerCommand('onnxCompress.checkSampleAccuracy', async () => {
      // The test set fits the sample only: another model in front would fail on its inputs.
      if (editor.activeDocument?.uri.fsPath !== sampleModel.fsPath) {
        void vscode.window.showInformationMessage('ONNX Compress: open the sample first (ONNX Compress: Open the Sample Model).');
        return undefined;
      }
      return report.checkAccuracy({ kind: 'numpy', path: vscode.Uri.joinPath(storage, 'digits-test.npz').fsPath });
    }),
  );
}
