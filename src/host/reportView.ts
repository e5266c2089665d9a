/**
 * The Compression Report: a webview panel opened beside the ONNX editor (in the bottom panel it left
 * five table rows), and its commands. The panel keeps no state: the host rebuilds the report for
 * the last active ONNX editor (reportBuild.ts) and replays it whenever the panel (re)loads or the
 * model changes; after a reload of the window VS Code gives the panel back (the serializer).
 * Export (reportExport.ts) and the accuracy check (accuracyCheck.ts, datasetPicker.ts) live beside it.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LatestJob } from '../core/latestJob';
import type { DatasetSpec } from '../eval/dataset';
import type { AccuracyCheck, CompressionReport } from '../report/compressionReport';
import { isFromReport, type ReportFormat, type ToReport } from '../shared/protocol';
import type { OnnxDocument } from './onnxDocument';
import type { OnnxEditorProvider } from './onnxEditorProvider';
import { webviewHtml } from './webviewHtml';
import { logIgnoredMessage } from './log';
import { buildReport } from './reportBuild';
import { exportReport } from './reportExport';
import { checkAccuracy } from './accuracyCheck';

export const REPORT_VIEW_ID = 'onnxCompress.report';

/** How long the model must stay unchanged before the report measures it again (holding Ctrl+Z fires many changes). */
const CHANGE_QUIET_MS = 250;

export class ReportView implements vscode.WebviewPanelSerializer {
  private view: vscode.WebviewPanel | undefined;
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
      vscode.window.registerWebviewPanelSerializer(REPORT_VIEW_ID, view),
      vscode.commands.registerCommand('onnxCompress.showReport', () => view.show()),
      vscode.commands.registerCommand('onnxCompress.exportReport', (format?: ReportFormat, target?: vscode.Uri) => view.export(format, target)),
      vscode.commands.registerCommand('onnxCompress.checkAccuracy', (dataset?: DatasetSpec) => view.checkAccuracy(dataset)),
    );
    return view;
  }

  /** Opens the report beside the editor, or brings it forward, leaving the focus where it is. */
  show(): void {
    if (this.view) return this.view.reveal(undefined, true);
    const panel = vscode.window.createWebviewPanel(REPORT_VIEW_ID, 'Compression Report', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {});
    this.adopt(panel);
  }

  /** The panel VS Code restores after a reload of the window. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel): Promise<void> {
    this.view?.dispose();
    this.adopt(panel);
  }

  private adopt(view: vscode.WebviewPanel): void {
    this.view = view;
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webviews');
    const media = vscode.Uri.joinPath(this.context.extensionUri, 'media');
    view.webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    view.iconPath = vscode.Uri.joinPath(media, 'icon.svg');
    view.webview.html = webviewHtml(view.webview, { script: vscode.Uri.joinPath(dist, 'report.js'), style: vscode.Uri.joinPath(media, 'report.css'), title: 'Compression Report' });
    view.onDidDispose(() => {
      if (this.view === view) this.view = undefined;
    });
    view.onDidChangeViewState(() => void this.refresh());
    view.webview.onDidReceiveMessage((m: unknown) => {
      if (!isFromReport(m)) return logIgnoredMessage('report', m);
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
    const session = this.editor.activeSession;
    try {
      const report = await this.building.request(async (signal) => (session ? await buildReport(session, signal) : null), quietMs);
      if (report !== undefined) this.post({ type: 'report', report });
    } catch (e) {
      void vscode.window.showErrorMessage(`ONNX Compress: report failed: ${(e as Error).message}`);
    }
  }

  /** The report of a document as it is now. */
  build(document: OnnxDocument, signal?: AbortSignal): Promise<CompressionReport> {
    const session = this.editor.sessionOf(document);
    if (!session) throw new Error(`${document.uri.fsPath} is not open in the ONNX editor`);
    return buildReport(session, signal);
  }

  /** Writes the active document's report (exportReport.ts). */
  async export(format?: ReportFormat, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
    const session = this.editor.sessionForCommand();
    return session && exportReport(session, format, target);
  }

  /** Runs the edited model and the file on disk side by side (accuracyCheck.ts); the report shows the result. */
  async checkAccuracy(dataset?: DatasetSpec): Promise<AccuracyCheck | undefined> {
    const session = this.editor.sessionForCommand();
    if (!session) return undefined;
    // The result is listed there; a reveal while a picker is open would close the picker.
    if (!this.view?.visible) this.show();
    try {
      return await checkAccuracy(session, path.join(this.context.extensionPath, 'dist', 'ortRunner.js'), dataset, (label) => this.post({ type: 'busy', label }));
    } finally {
      void this.refresh();
    }
  }
}
