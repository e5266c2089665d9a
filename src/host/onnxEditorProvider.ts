/**
 * The ONNX model editor (default for *.onnx): VS Code's entry points for documents and panels,
 * routed to the EditorSession that owns each open document (editorSession.ts). Here only what
 * is shared: the active document, the analysis pool, the transform services, the edit event.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { webviewHtml } from './webviewHtml';
import { OnnxDocument } from './onnxDocument';
import { EditorSession, type SessionHost } from './editorSession';
import type { AnalysisPool } from './analysisPool';
import { OrtProcess } from '../eval/ortProcess';
import { calibrationFromDataset, ortTransformServices } from '../eval/transformServices';
import type { DatasetSpec } from '../eval/dataset';
import type { TransformServices } from '../transforms/transform';

export const EDITOR_VIEW_TYPE = 'onnxCompress.editor';

export class OnnxEditorProvider implements vscode.CustomEditorProvider<OnnxDocument> {
  private readonly changed = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<OnnxDocument>>();
  readonly onDidChangeCustomDocument = this.changed.event;
  private readonly sessions = new Map<OnnxDocument, EditorSession>();
  private active: EditorSession | undefined;
  private readonly stateChanged = new vscode.EventEmitter<OnnxDocument | undefined>();
  /** The active document changed, or the active or another document's model did (edit, undo, save, revert). */
  readonly onDidChangeState = this.stateChanged.event;
  private readonly host: SessionHost;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly pool: AnalysisPool,
  ) {
    this.host = {
      pool,
      withServices: (file, dataset, use) => this.withServices(file, dataset, use),
      edited: (session, label, undo, redo) => this.changed.fire({ document: session.document, label, undo, redo }),
      changed: (session, event) => {
        if (event === 'active') {
          if (this.active === session) return;
          this.active = session;
        } else if (event === 'closed') {
          if (this.active !== session) return;
          this.active = undefined;
        }
        this.stateChanged.fire(event === 'closed' ? undefined : session.document);
      },
      html: (webview) => {
        const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webviews');
        const media = vscode.Uri.joinPath(this.context.extensionUri, 'media');
        return webviewHtml(webview, { script: vscode.Uri.joinPath(dist, 'editor.js'), style: vscode.Uri.joinPath(media, 'editor.css'), title: 'ONNX model', loading: 'Opening the model…' });
      },
    };
  }

  static register(context: vscode.ExtensionContext, pool: AnalysisPool): OnnxEditorProvider {
    const provider = new OnnxEditorProvider(context, pool);
    context.subscriptions.push(
      vscode.window.registerCustomEditorProvider(EDITOR_VIEW_TYPE, provider, { supportsMultipleEditorsPerDocument: true }),
      provider.stateChanged,
      provider.changed,
    );
    return provider;
  }

  /** The transform services the CLI wires too: onnxruntime in a child process for calibration, only while a step runs. */
  async withServices<T>(file: string, dataset: DatasetSpec | undefined, use: (services: TransformServices) => Promise<T>): Promise<T> {
    const runner = new OrtProcess(path.join(this.context.extensionPath, 'dist', 'ortRunner.js'));
    try {
      return await use(ortTransformServices(runner, () => calibrationFromDataset(path.dirname(file), dataset)));
    } finally {
      runner.dispose();
    }
  }

  /** The document of the editor in front, if it is one of ours. */
  get activeDocument(): OnnxDocument | undefined {
    return this.active?.document;
  }

  /** The session of the editor in front. */
  get activeSession(): EditorSession | undefined {
    return this.active;
  }

  sessionOf(document: OnnxDocument): EditorSession | undefined {
    return this.sessions.get(document);
  }

  /** The active session for a command; tells the user what to do when there is none. */
  sessionForCommand(): EditorSession | undefined {
    if (!this.active) void vscode.window.showInformationMessage('ONNX Compress: open a model in the ONNX editor first.');
    return this.active;
  }

  documentForCommand(): OnnxDocument | undefined {
    return this.sessionForCommand()?.document;
  }

  selectionOf(document: OnnxDocument): readonly string[] {
    return this.sessions.get(document)?.selection ?? [];
  }

  /** Applies a recipe step as an undoable edit; false when it changed nothing or failed (the editor said why). */
  async applyStep(document: OnnxDocument, raw: Record<string, unknown>): Promise<boolean> {
    return (await this.sessions.get(document)?.applyStep(raw)) ?? false;
  }

  /** Opens a model in this editor and returns its session once it is open. */
  async open(uri: vscode.Uri): Promise<EditorSession | undefined> {
    await vscode.commands.executeCommand('vscode.openWith', uri, EDITOR_VIEW_TYPE);
    return [...this.sessions.values()].find((s) => s.document.uri.fsPath === uri.fsPath);
  }

  async openCustomDocument(uri: vscode.Uri, openContext: vscode.CustomDocumentOpenContext): Promise<OnnxDocument> {
    const document = await this.withServices(uri.fsPath, undefined, (services) => OnnxDocument.create(uri, openContext.backupId, services));
    const session = new EditorSession(document, this.host);
    this.sessions.set(document, session);
    document.onDispose(() => {
      session.dispose();
      this.sessions.delete(document);
    });
    return document;
  }

  async resolveCustomEditor(document: OnnxDocument, panel: vscode.WebviewPanel): Promise<void> {
    this.sessions.get(document)!.addPanel(panel, this.context.extensionUri);
  }

  async saveCustomDocument(document: OnnxDocument): Promise<void> {
    await this.sessions.get(document)!.save();
  }

  async saveCustomDocumentAs(document: OnnxDocument, destination: vscode.Uri): Promise<void> {
    await document.saveAs(destination);
  }

  async revertCustomDocument(document: OnnxDocument): Promise<void> {
    await this.sessions.get(document)!.revert();
  }

  backupCustomDocument(document: OnnxDocument, context: vscode.CustomDocumentBackupContext): Thenable<vscode.CustomDocumentBackup> {
    return document.backup(context.destination);
  }
}
