/**
 * The Compression Report side panel (a WebviewView in the panel area) and its commands: export
 * as Markdown / HTML / JSON, and an accuracy check of the edited model against the file on disk
 * in the onnxruntime child process. The view keeps no state: the host rebuilds the report for
 * the active ONNX editor and replays it whenever the view (re)loads or the model changes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { openModel } from '../core/onnx/model';
import { encodeMessage } from '../core/protobuf/encode';
import { ModelSchema } from '../core/onnx/schema';
import { graphValues, parseShape } from '../core/onnx/graphValues';
import { saveTempModel, type TempModel } from '../core/onnx/tempModel';
import { stateOf, storedBytes } from '../transforms/apply';
import type { ModelState } from '../transforms/transform';
import { LatestJob } from '../core/latestJob';
import { OrtProcess } from '../eval/ortProcess';
import { DEFAULT_PREPROCESS, type DatasetSpec } from '../eval/dataset';
import type { AccuracyCheck, CompressionReport, SizeFigures } from '../report/compressionReport';
import { measureSizes } from '../report/sizeFigures';
import { reportMarkdown } from '../report/reportMarkdown';
import { reportHtml } from '../report/reportHtml';
import { isFromReport, type ReportFormat, type ToReport } from '../shared/protocol';
import type { OnnxDocument } from './onnxDocument';
import type { OnnxEditorProvider } from './onnxEditorProvider';
import { webviewHtml } from './webviewHtml';

export const REPORT_VIEW_ID = 'onnxCompress.report';

const EXTENSIONS: Record<ReportFormat, string> = { markdown: 'md', html: 'html', json: 'json' };

/** How long the model must stay unchanged before the report measures it again (holding Ctrl+Z fires many changes). */
const CHANGE_QUIET_MS = 250;

export class ReportView implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  /** Accuracy checks per document: host state the view replays. */
  private readonly checks = new WeakMap<OnnxDocument, AccuracyCheck[]>();
  /** Size figures of the file on disk, per document, keyed by the file's size and mtime. */
  private readonly onDisk = new WeakMap<OnnxDocument, { stamp: string; sizes: SizeFigures }>();
  /** Size figures per model state: states are immutable, and undo/redo return to known ones. */
  private readonly stateSizes = new WeakMap<ModelState, SizeFigures>();
  /** The report being built: a newer change aborts it (measuring a 100 MB model takes seconds). */
  private readonly building = new LatestJob();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly editor: OnnxEditorProvider,
  ) {
    context.subscriptions.push(editor.onDidChangeState(() => void this.refresh(CHANGE_QUIET_MS)), { dispose: () => this.building.cancel() });
  }

  static register(context: vscode.ExtensionContext, editor: OnnxEditorProvider): ReportView {
    const view = new ReportView(context, editor);
    context.subscriptions.push(
      vscode.window.registerWebviewViewProvider(REPORT_VIEW_ID, view),
      vscode.commands.registerCommand('onnxCompress.exportReport', (format?: ReportFormat, target?: vscode.Uri) => view.export(format, target)),
      vscode.commands.registerCommand('onnxCompress.checkAccuracy', (dataset?: DatasetSpec) => view.checkAccuracy(dataset)),
    );
    return view;
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webviews');
    const media = vscode.Uri.joinPath(this.context.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    view.webview.html = webviewHtml(view.webview, { script: vscode.Uri.joinPath(dist, 'report.js'), style: vscode.Uri.joinPath(media, 'report.css'), title: 'Compression Report' });
    view.onDidDispose(() => (this.view = undefined));
    view.onDidChangeVisibility(() => void this.refresh());
    view.webview.onDidReceiveMessage((m: unknown) => {
      if (!isFromReport(m)) return;
      if (m.type === 'ready') void this.refresh();
      else if (m.type === 'export') void this.export(m.format);
      else void this.checkAccuracy();
    });
  }

  private post(message: ToReport): void {
    void this.view?.webview.postMessage(message);
  }

  /**
   * Rebuilds and sends the report when the view can be seen, after `quietMs` without another
   * call; a newer call aborts an older one still measuring.
   */
  private async refresh(quietMs = 0): Promise<void> {
    if (!this.view?.visible) return this.building.cancel();
    const document = this.editor.activeDocument;
    try {
      const report = await this.building.request(async (signal) => (document ? await this.build(document, signal) : null), quietMs);
      if (report !== undefined) this.post({ type: 'report', report });
    } catch (e) {
      void vscode.window.showErrorMessage(`ONNX Compress: report failed: ${(e as Error).message}`);
    }
  }

  /** The report of a document as it is now. */
  async build(document: OnnxDocument, signal?: AbortSignal): Promise<CompressionReport> {
    const session = document.session;
    const state = session.state;
    let after = this.stateSizes.get(state);
    if (!after) {
      after = await measureSizes(encodeMessage(ModelSchema, state.proto).finish(), storedBytes(state), signal);
      this.stateSizes.set(state, after);
    }
    return {
      model: path.basename(session.file),
      generated: new Date().toISOString(),
      before: session.steps.length ? await this.diskSizes(document, signal) : after,
      after,
      // Reports carry the figures; the value histograms are for the editor's overlay only.
      edits: document.edits.map((e) => ({ ...e, changes: e.changes.map(({ histogram: _, ...row }) => row) })),
      accuracy: this.checks.get(document) ?? [],
    };
  }

  private async diskSizes(document: OnnxDocument, signal?: AbortSignal): Promise<SizeFigures> {
    const file = document.session.file;
    const st = await fs.promises.stat(file);
    const stamp = `${st.size}:${st.mtimeMs}`;
    const known = this.onDisk.get(document);
    if (known?.stamp === stamp) return known.sizes;
    const model = openModel(file);
    const sizes = await measureSizes([model.bytes], storedBytes(stateOf(model.proto, model.dir)), signal);
    this.onDisk.set(document, { stamp, sizes });
    return sizes;
  }

  /** Writes the active document's report; asks for the format and place unless given (tests give them). */
  async export(format?: ReportFormat, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const document = this.editor.documentForCommand();
    if (!document) return undefined;
    format ??= (
      await vscode.window.showQuickPick(
        (Object.keys(EXTENSIONS) as ReportFormat[]).map((f) => ({ label: f === 'json' ? 'JSON' : f === 'html' ? 'HTML' : 'Markdown', format: f })),
        { title: 'Export the compression report as' },
      )
    )?.format;
    if (!format) return undefined;
    const base = document.session.file.replace(/\.onnx$/i, '');
    target ??= await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(`${base}.report.${EXTENSIONS[format]}`), filters: { [format]: [EXTENSIONS[format]] } });
    if (!target) return undefined;
    const report = await this.build(document);
    const text = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : format === 'html' ? reportHtml(report) : reportMarkdown(report);
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(text));
    return target;
  }

  /** Last shapes given for a model's symbolic inputs, offered again next time. */
  private readonly shapes = new Map<string, Record<string, number[]>>();

  private pickDataset(document: OnnxDocument): Promise<DatasetSpec | undefined> {
    return pickDataset(async () => {
      const known = this.shapes.get(document.session.file) ?? {};
      const shapes: Record<string, number[]> = {};
      for (const input of graphValues(document.session.state.proto).inputs) {
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
      this.shapes.set(document.session.file, shapes);
      return shapes;
    });
  }

  /**
   * Runs the edited model and the file on disk side by side in the onnxruntime child process.
   * Running a model is executing code from the workspace, so it needs workspace trust.
   */
  async checkAccuracy(dataset?: DatasetSpec): Promise<AccuracyCheck | undefined> {
    const document = this.editor.documentForCommand();
    if (!document) return undefined;
    if (!vscode.workspace.isTrusted) {
      const choice = await vscode.window.showWarningMessage('ONNX Compress: checking accuracy runs the model, which needs a trusted workspace.', 'Manage Workspace Trust');
      if (choice) await vscode.commands.executeCommand('workbench.trust.manage');
      return undefined;
    }
    dataset ??= await this.pickDataset(document);
    if (!dataset) return undefined;
    const session = document.session;
    const edits = document.edits.map((e) => e.label);
    let temp: TempModel | undefined;
    const runner = new OrtProcess(path.join(this.context.extensionPath, 'dist', 'ortRunner.js'));
    this.post({ type: 'busy', label: 'Checking accuracy…' });
    try {
      temp = await saveTempModel(session.state, 'check', 'candidate.onnx');
      const { file: candidate, saved } = temp;
      const settings = vscode.workspace.getConfiguration('onnxCompress');
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'ONNX Compress: checking accuracy', cancellable: true },
        async (progress, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          let last = 0;
          const reply = await runner.run(
            { kind: 'evaluate', candidate, baseline: session.file, dataset: dataset!, batchSize: settings.get<number>('evaluation.batchSize', 8), threads: settings.get<number>('evaluation.threads', 1), optimization: 'all' },
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
      };
      this.checks.set(document, [...(this.checks.get(document) ?? []), check]);
      return check;
    } catch (e) {
      if ((e as Error).name !== 'AbortError') void vscode.window.showErrorMessage(`ONNX Compress: accuracy check failed: ${(e as Error).message}`);
      return undefined;
    } finally {
      runner.dispose();
      temp?.dispose();
      this.post({ type: 'busy', label: null });
      void this.refresh();
    }
  }
}

async function pickDataset(askShapes: () => Promise<Record<string, number[]> | undefined>): Promise<DatasetSpec | undefined> {
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
    const shapes = await askShapes();
    return shapes && { kind: 'synthetic', samples: 64, seed: 1, shapes };
  }
  const picked = await vscode.window.showOpenDialog({ canSelectFiles: choice.source === 'numpy', canSelectFolders: true, canSelectMany: false, filters: choice.source === 'numpy' ? { NumPy: ['npz', 'npy'] } : undefined });
  if (!picked?.[0]) return undefined;
  if (choice.source === 'numpy') return { kind: 'numpy', path: picked[0].fsPath };
  return { kind: 'images', root: picked[0].fsPath, preprocess: DEFAULT_PREPROCESS };
}
