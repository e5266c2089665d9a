/**
 * "Compress to Budget…": the smallest model whose measured verdict passes the budgets in the
 * settings, as one undoable edit. The layers (the selection, or all) are ranked by what one
 * transform costs each in onnxruntime, the combined plan is measured and backed off until it
 * passes (eval/sensitivity.ts, eval/budgetPlan.ts), then applied; an accuracy check of the result
 * puts the verdict at the top of the report.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { saveTempModel, type TempModel } from '../core/onnx/tempModel';
import { OrtProcess } from '../eval/ortProcess';
import { analyzeSensitivity, type SensitivityResult } from '../eval/sensitivity';
import type { DatasetSpec } from '../eval/dataset';
import { parseStep } from '../transforms/recipe';
import { PRESETS, type Preset } from '../shared/presets';
import { humanBytes, plural } from '../shared/format';
import type { OnnxEditorProvider } from './onnxEditorProvider';
import type { ReportView } from './reportView';
import { budgetsFrom } from './accuracyCheck';
import { pickDataset } from './datasetPicker';

/** Samples each layer and each plan is measured on. */
const SAMPLES = 64;

export function registerBudgetCommand(context: vscode.ExtensionContext, editor: OnnxEditorProvider, report: ReportView): void {
  const runnerScript = path.join(context.extensionPath, 'dist', 'ortRunner.js');
  context.subscriptions.push(
    vscode.commands.registerCommand('onnxCompress.compressToBudget', async (presetLabel?: string, given?: DatasetSpec) => {
      const session = editor.sessionForCommand();
      if (!session) return undefined;
      const settings = vscode.workspace.getConfiguration('onnxCompress');
      const budgets = budgetsFrom(settings);
      if (!budgets.length) {
        void vscode.window.showWarningMessage('ONNX Compress: no accuracy budget is set (onnxCompress.evaluation.maxDrop, minAgreement or minSqnr).');
        return undefined;
      }
      const choices = Object.values(PRESETS).flatMap((list: readonly Preset[]) => list.map((p) => ({ ...p, detail: String(p.step.transform) })));
      const preset = choices.find((p) => p.label === presetLabel) ?? (await vscode.window.showQuickPick(choices, { title: 'Compress to budget: the transform to take as far as the budget allows' }));
      if (!preset) return undefined;
      const dataset = given ?? session.dataset ?? (await pickDataset(session));
      if (!dataset) return undefined;
      const selection = session.selection;
      const step = parseStep({ ...preset.step, layers: selection.length ? [...selection] : '*' }, 'compress to budget');
      let temp: TempModel | undefined;
      const runner = new OrtProcess(runnerScript);
      try {
        temp = await saveTempModel(session.document.session.state, 'budget', 'model.onnx');
        const file = temp.file;
        const result: SensitivityResult = await vscode.window.withProgress(
          { location: vscode.ProgressLocation.Notification, title: `ONNX Compress: ${preset.label} to the budget`, cancellable: true },
          (progress, token) => {
            const abort = new AbortController();
            token.onCancellationRequested(() => abort.abort());
            return analyzeSensitivity(
              file,
              {
                step, dataset, limit: SAMPLES, batchSize: settings.get<number>('evaluation.batchSize', 8), threads: settings.get<number>('evaluation.threads', 1), budgets, signal: abort.signal,
                onProgress: (done, total, layer) => progress.report({ message: `ranking layers: ${done} of ${total} (${layer})` }),
                onTrial: (t) => progress.report({ message: `plan with ${plural(t.layers, 'layer')}: ${t.pass ? 'passes' : 'fails'}` }),
              },
              runner,
            );
          },
        );
        const plan = result.plan.budget!;
        if (!plan.layers.length) {
          void vscode.window.showWarningMessage(`ONNX Compress: no layer can take ${preset.label} within the budget: ${plan.verdict}`);
          return result;
        }
        if (!(await session.applyStep(plan.step))) return result;
        void vscode.window.showInformationMessage(`ONNX Compress: ${preset.label} on ${plural(plan.layers.length, 'layer')}, weights ${humanBytes(result.weightBytes)} → ${humanBytes(plan.weightBytesAfter)}: ${plan.verdict}`);
        // The edited model measured once more, so the report shows its verdict first.
        await report.checkAccuracy(dataset);
        return result;
      } catch (e) {
        if ((e as Error).name !== 'AbortError') void vscode.window.showErrorMessage(`ONNX Compress: compress to budget failed: ${(e as Error).message}`);
        return undefined;
      } finally {
        runner.dispose();
        temp?.dispose();
      }
    }),
  );
}
