/**
 * "ONNX Compress: Analyze ONNX Model": the size report for a model file, in an output channel.
 * The custom editor (a later issue) replaces this as the main way in; the command stays for
 * quick looks from the explorer.
 */
import * as vscode from 'vscode';
import { OnnxError } from '../core/errors';
import { openModel } from '../core/onnx/model';
import { summarizeModel } from '../analyzers/modelSummary';

export function registerAnalyzeCommand(context: vscode.ExtensionContext): void {
  const channel = vscode.window.createOutputChannel('ONNX Compress');
  context.subscriptions.push(
    channel,
    vscode.commands.registerCommand('onnxCompress.analyzeModel', async (uri?: vscode.Uri) => {
      const target = uri ?? (await pickModel());
      if (!target) return;
      try {
        const s = summarizeModel(openModel(target.fsPath));
        channel.clear();
        channel.appendLine(`${s.model.file}: ${s.model.parameterCount.toLocaleString('en-US')} parameters, ${s.model.weightBytes.toLocaleString('en-US')} weight bytes, ${s.layers.length} layers`);
        for (const l of [...s.layers].sort((a, b) => b.bytes - a.bytes)) {
          channel.appendLine(`  ${l.name.padEnd(40)} ${l.opType.padEnd(14)} ${String(l.params).padStart(12)} params ${String(l.bytes).padStart(12)} bytes`);
        }
        channel.show(true);
      } catch (e) {
        const message = e instanceof OnnxError ? e.message : String(e);
        void vscode.window.showErrorMessage(`ONNX Compress: ${message}`);
      }
    }),
  );
}

async function pickModel(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'ONNX models': ['onnx'] } });
  return picked?.[0];
}
