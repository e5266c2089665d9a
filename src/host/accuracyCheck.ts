/**
 * Checks the edited model against the file on disk, side by side in the onnxruntime child
 * process, and records the check (and its dataset) on the document's session. Running a model
 * is executing code from the workspace, so it needs workspace trust.
 */
import * as vscode from 'vscode';
import { saveTempModel, type TempModel } from '../core/onnx/tempModel';
import { OrtProcess } from '../eval/ortProcess';
import type { DatasetSpec } from '../eval/dataset';
import type { AccuracyCheck } from '../report/compressionReport';
import type { EditorSession } from './editorSession';
import { pickDataset } from './datasetPicker';
import { judge, type Budget } from '../eval/budgets';
import type { EvaluationResult } from '../eval/protocol';
import { compareSpeed, speedText, weightWidening } from '../eval/latencyCause';
import { taskFigures } from '../report/taskText';
import { lmText } from '../report/lmText';
import { chooseTask } from '../eval/lmDetect';

/** The verdict, or a line saying why the budgets could not judge this model (the check itself stands). */
function verdictOf(result: EvaluationResult, budgets: Budget[]): { pass: boolean; line: string } | undefined {
  if (!budgets.length) return undefined;
  try {
    return judge(result, budgets);
  } catch (e) {
    return { pass: false, line: `FAIL: the budgets cannot judge this model: ${(e as Error).message}` };
  }
}

/** The budgets set in the settings (points for maxDrop, a share for minAgreement, dB for minSqnr). */
export function budgetsFrom(settings: vscode.WorkspaceConfiguration): Budget[] {
  const maxDrop = settings.get<number | null>('evaluation.maxDrop', 1);
  const minAgreement = settings.get<number | null>('evaluation.minAgreement', null);
  const minSqnr = settings.get<number | null>('evaluation.minSqnr', null);
  return [
    ...(typeof maxDrop === 'number' ? [{ kind: 'max-drop' as const, limit: maxDrop / 100 }] : []),
    ...(typeof minAgreement === 'number' ? [{ kind: 'min-agreement' as const, limit: minAgreement }] : []),
    ...(typeof minSqnr === 'number' ? [{ kind: 'min-sqnr' as const, limit: minSqnr }] : []),
  ];
}

/** `busy` is told while the check runs (after the questions). */
export async function checkAccuracy(session: EditorSession, runnerScript: string, dataset?: DatasetSpec, busy: (label: string | null) => void = () => undefined): Promise<AccuracyCheck | undefined> {
  if (!vscode.workspace.isTrusted) {
    const choice = await vscode.window.showWarningMessage('ONNX Compress: checking accuracy runs the model, which needs a trusted workspace.', 'Manage Workspace Trust');
    if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
    return undefined;
  }
  dataset ??= await pickDataset(session);
  if (!dataset) return undefined;
  const model = session.document.session;
  const edits = session.document.edits.map((e) => e.label);
  const runner = new OrtProcess(runnerScript);
  const settings = vscode.workspace.getConfiguration('onnxCompress');
  // A language model's logits are next-token predictions: scored by perplexity, as eval does.
  const { task, why: lm } = chooseTask(model.state.proto);
  busy('Checking accuracy…');
  let temp: TempModel | undefined;
  try {
    temp = await saveTempModel(model.state, 'check', 'candidate.onnx');
    const { file: candidate, saved } = temp;
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'ONNX Compress: checking accuracy', cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        token.onCancellationRequested(() => abort.abort());
        let last = 0;
        const reply = await runner.run(
          { kind: 'evaluate', candidate, baseline: model.file, dataset: dataset!, batchSize: settings.get<number>('evaluation.batchSize', 8), threads: settings.get<number>('evaluation.threads', 1), optimization: 'all', ...(task ? { task } : {}) },
          (done, total, rate) => {
            const fraction = done / Math.max(1, total);
            progress.report({ message: `${done}/${total} samples${rate ? `, ${rate.toFixed(1)}/s` : ''}`, increment: (fraction - last) * 100 });
            last = fraction;
          },
          abort.signal,
          settings.get<number>('evaluation.timeoutSeconds', 600) * 1000,
        );
        return reply.result;
      },
    );
    const first = result.outputs?.[0];
    const verdict = verdictOf(result, budgetsFrom(settings));
    const speed = result.baseline ? compareSpeed(result.candidate.latencyMs.median, result.baseline.latencyMs.median, weightWidening(model.state.proto)) : undefined;
    const check: AccuracyCheck = {
      when: new Date().toISOString(),
      edits,
      dataset: result.description,
      samples: result.samples,
      synthetic: result.synthetic,
      candidateBytes: saved.bytes,
      baselineAccuracy: result.baseline?.accuracy,
      candidateAccuracy: result.candidate.accuracy,
      agreement: result.agreement,
      outputSqnrDb: first ? (first.sqnrDb ?? Infinity) : undefined,
      maxAbsError: first?.maxAbsError,
      baselineLatencyMs: result.baseline?.latencyMs.median,
      candidateLatencyMs: result.candidate.latencyMs.median,
      ...(verdict ? { verdict: { pass: verdict.pass, line: verdict.line } } : {}),
      ...(result.tasks ? { outputs: result.tasks.map((t) => `${t.name}: ${t.task} — ${taskFigures(t)}`) } : {}),
      ...(result.lm ? { outputs: lmText({ ...result.lm, why: lm }).split('\n') } : {}),
      ...(speed?.verdict === 'slower' ? { speed: speedText(speed) } : {}),
    };
    session.addCheck(check, dataset);
    return check;
  } catch (e) {
    if ((e as Error).name !== 'AbortError') void vscode.window.showErrorMessage(`ONNX Compress: accuracy check failed: ${(e as Error).message}`);
    return undefined;
  } finally {
    runner.dispose();
    temp?.dispose();
    busy(null);
  }
}
