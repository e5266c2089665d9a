/**
 * "ONNX Compress: Analyze ONNX Model": the size and redundancy report for a model file, computed
 * in the analysis worker (the extension host stays responsive), with progress and Cancel, shown
 * in the ONNX Compress output channel. The custom editor (a later issue) becomes the main way in;
 * this command stays for quick looks from the explorer.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { analysisProgress } from '../shared/format';
import { OnnxError } from '../core/errors';
import { AnalysisCancelled } from '../analyzers/worker/analysisClient';
import { textReport } from '../report/analysisText';
import { analysisOptions } from './settings';
import type { AnalysisPool } from './analysisPool';

/** Runs in the extension's one analysis pool (the editor's). */
export function registerAnalyzeCommand(context: vscode.ExtensionContext, pool: AnalysisPool): void {
  const channel = vscode.window.createOutputChannel('ONNX Compress');
  context.subscriptions.push(
    channel,
    vscode.commands.registerCommand('onnxCompress.analyzeModel', async (uri?: vscode.Uri) => {
      const target = uri ?? (await pickModel());
      if (!target) return;
      const worker = pool.get();
      await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Analyzing ${path.basename(target.fsPath)}`, cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          let reported = 0;
          try {
            // A full report: no layer is left for later.
            const options = { ...analysisOptions(), maxEagerBytes: undefined };
            const analysis = await worker.analyze(target.fsPath, options, {
              signal: abort.signal,
              progressEveryMs: 100,
              onProgress: (p) => {
                const percent = (100 * p.elementsDone) / Math.max(1, p.elementsTotal);
                progress.report({ message: analysisProgress(p), increment: percent - reported });
                reported = percent;
              },
            });
            channel.clear();
            channel.appendLine(textReport(analysis));
            channel.show(true);
          } catch (e) {
            if (e instanceof AnalysisCancelled) return;
            const message = e instanceof OnnxError ? e.message : String(e);
            void vscode.window.showErrorMessage(`ONNX Compress: ${message}`);
          }
        },
      );
    }),
  );
}

async function pickModel(): Promise<vscode.Uri | undefined> {
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'ONNX models': ['onnx'] } });
  return picked?.[0];
}
