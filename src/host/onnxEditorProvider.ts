/**
 * The ONNX model editor (default for *.onnx): the host owns the document; the webview shows the
 * summary, the layer table, the selected layer's histogram and the edits, and asks for changes.
 * Each change is a VS Code edit (undo/redo, dirty state, save, revert, hot exit). Analysis runs
 * in the worker thread, on the file as opened or on a temporary copy of the edited model.
 */
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { webviewHtml } from './webviewHtml';
import { OnnxError } from '../core/errors';
import { saveTempModel } from '../core/onnx/tempModel';
import { summarizeModel } from '../analyzers/modelSummary';
import { AnalysisCancelled, AnalysisClient } from '../analyzers/worker/analysisClient';
import { analysisOptions, analysisWorkerCount, transformDefaults } from './settings';
import type { ModelSummary } from '../analyzers/modelSummary';
import { ShownAnalysis } from './shownAnalysis';
import { tableLayer, type TableLayer } from '../shared/tableLayer';
import { parseStep } from '../transforms/recipe';
import { OnnxDocument } from './onnxDocument';
import { isFromWebview, type ToWebview } from '../shared/protocol';
import { graphValues } from '../core/onnx/graphValues';
import { attributeLayers, type Layer } from '../analyzers/layers';
import { formPreview } from './formPreview';

export const EDITOR_VIEW_TYPE = 'onnxCompress.editor';

export class OnnxEditorProvider implements vscode.CustomEditorProvider<OnnxDocument> {
  private readonly changed = new vscode.EventEmitter<vscode.CustomDocumentEditEvent<OnnxDocument>>();
  readonly onDidChangeCustomDocument = this.changed.event;
  private readonly panels = new Map<OnnxDocument, Set<vscode.WebviewPanel>>();
  private readonly selections = new Map<OnnxDocument, readonly string[]>();
  private readonly analyses = new Map<OnnxDocument, AbortController>();
  /** The analysis of each document's current version, complete or still coming in. */
  private readonly shown = new Map<OnnxDocument, ShownAnalysis>();
  /** The summary last sent for each document (the preview's layers), and its version. */
  private readonly summaries = new Map<OnnxDocument, { version: number; summary: ModelSummary }>();
  private readonly layers = new Map<OnnxDocument, { version: number; layers: readonly Layer[] }>();
  private client: AnalysisClient | undefined;
  private active: OnnxDocument | undefined;
  private readonly stateChanged = new vscode.EventEmitter<OnnxDocument | undefined>();
  /** The active document changed, or the active or another document's model did (edit, undo, save, revert). */
  readonly onDidChangeState = this.stateChanged.event;

  constructor(private readonly context: vscode.ExtensionContext) {}

  static register(context: vscode.ExtensionContext): OnnxEditorProvider {
    const provider = new OnnxEditorProvider(context);
    context.subscriptions.push(
      vscode.window.registerCustomEditorProvider(EDITOR_VIEW_TYPE, provider, { supportsMultipleEditorsPerDocument: true }),
      { dispose: () => void provider.client?.dispose() },
      provider.stateChanged,
    );
    return provider;
  }

  /** The document of the editor in front, if it is one of ours. */
  get activeDocument(): OnnxDocument | undefined {
    return this.active;
  }

  /** The active document for a command; tells the user what to do when there is none. */
  documentForCommand(): OnnxDocument | undefined {
    if (!this.active) void vscode.window.showInformationMessage('ONNX Compress: open a model in the ONNX editor first.');
    return this.active;
  }

  selectionOf(document: OnnxDocument): readonly string[] {
    return this.selections.get(document) ?? [];
  }

  async openCustomDocument(uri: vscode.Uri, openContext: vscode.CustomDocumentOpenContext): Promise<OnnxDocument> {
    const document = await OnnxDocument.create(uri, openContext.backupId);
    this.watch(document);
    return document;
  }

  /** A change of the file on disk that we did not make: reload a clean document, ask for an edited one. */
  private watch(document: OnnxDocument): void {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.joinPath(document.uri, '..'), path.basename(document.uri.fsPath)));
    const onChange = async (): Promise<void> => {
      if (document.ownWriteInProgress || !document.changedOnDisk()) return;
      if (document.session.steps.length === 0) {
        await this.revertCustomDocument(document);
        return;
      }
      const choice = await vscode.window.showWarningMessage(
        `${path.basename(document.uri.fsPath)} changed on disk while you were editing it.`,
        'Reload from disk',
        'Keep my edits',
      );
      if (choice === 'Reload from disk') await this.revertCustomDocument(document);
      else document.acceptDiskVersion();
    };
    watcher.onDidChange(() => void onChange());
    watcher.onDidCreate(() => void onChange());
    document.onDispose(() => watcher.dispose());
  }

  async resolveCustomEditor(document: OnnxDocument, panel: vscode.WebviewPanel): Promise<void> {
    let set = this.panels.get(document);
    if (!set) this.panels.set(document, (set = new Set()));
    set.add(panel);
    const dist = vscode.Uri.joinPath(this.context.extensionUri, 'dist', 'webviews');
    const media = vscode.Uri.joinPath(this.context.extensionUri, 'media');
    panel.webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    panel.webview.html = this.html(panel.webview, dist, media);
    const activate = (): void => {
      if (!panel.active || this.active === document) return;
      this.active = document;
      this.stateChanged.fire(document);
    };
    activate();
    panel.onDidChangeViewState(activate);
    panel.onDidDispose(() => {
      set!.delete(panel);
      if (set!.size === 0) {
        this.analyses.get(document)?.abort();
        this.shown.delete(document);
        this.summaries.delete(document);
        this.layers.delete(document);
        this.panels.delete(document);
        if (this.active === document) {
          this.active = undefined;
          this.stateChanged.fire(undefined);
        }
      }
    });
    panel.webview.onDidReceiveMessage((m: unknown) => {
      if (!isFromWebview(m)) return;
      switch (m.type) {
        case 'ready': {
          this.post(panel, this.modelMessage(document));
          // A webview that reloads (hidden and shown again) gets what is in; only a new version is analyzed again.
          const shown = this.shown.get(document);
          if (shown?.version === document.session.version) for (const message of shown.replay()) this.post(panel, message);
          else void this.analyze(document);
          return;
        }
        case 'selection':
          this.selections.set(document, m.layers);
          return;
        case 'apply':
          void this.applyStep(document, m.step);
          return;
        case 'analyzeLayer':
          void this.analyzeLayer(document, m.index);
          return;
        case 'layerDetail': {
          const shown = this.shown.get(document);
          const layer = shown?.version === document.session.version ? shown.layer(m.index) : undefined;
          if (layer && shown) this.post(panel, { type: 'layerDetail', index: m.index, layer, version: shown.version });
          return;
        }
        case 'preview': {
          const shown = this.shown.get(document) ?? new ShownAnalysis(document.session.version);
          const summary = this.summaries.get(document);
          if (summary?.version !== document.session.version) return; // a newer model message is on its way
          this.post(panel, formPreview(m.id, m.step, m.layers, shown, summary.summary.layers, this.modelLayers(document), document.session.state));
          return;
        }
      }
    });
  }

  /** The current model's layers (what the preview checks a step against), kept per version. */
  private modelLayers(document: OnnxDocument): readonly Layer[] {
    const version = document.session.version;
    let cached = this.layers.get(document);
    if (cached?.version !== version) this.layers.set(document, (cached = { version, layers: attributeLayers(document.session.state.index).layers }));
    return cached.layers;
  }

  private post(panel: vscode.WebviewPanel, message: ToWebview): void {
    void panel.webview.postMessage(message);
  }

  private broadcast(document: OnnxDocument, message: ToWebview): void {
    for (const p of this.panels.get(document) ?? []) this.post(p, message);
  }

  private modelMessage(document: OnnxDocument): ToWebview {
    const s = document.session;
    // The summary only needs the file's size, which the session knows: no bytes are passed.
    const summary = summarizeModel({ file: s.file, dir: s.state.dir, bytes: new Uint8Array(0), proto: s.state.proto, index: s.state.index });
    summary.model.fileBytes = s.fileBytes;
    this.summaries.set(document, { version: s.version, summary });
    const { inputs, outputs } = graphValues(s.state.proto);
    return {
      type: 'model',
      summary,
      inputs,
      outputs,
      edits: document.edits,
      version: s.version,
      defaults: transformDefaults(),
    };
  }

  /** Applies a recipe step (from the webview or a command) as an undoable edit, unless it changes no layer. */
  async applyStep(document: OnnxDocument, raw: Record<string, unknown>): Promise<void> {
    let step;
    try {
      step = parseStep(raw, 'action');
    } catch (e) {
      this.broadcast(document, { type: 'error', message: (e as Error).message });
      return;
    }
    this.broadcast(document, { type: 'busy', label: 'Applying…' });
    try {
      const applied = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'ONNX Compress', cancellable: true },
        async (progress, token) => {
          progress.report({ message: 'applying…' });
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          return document.apply(step, abort.signal);
        },
      );
      if ('unchanged' in applied) {
        // Not an edit: no dirty marker, no undo entry; say why instead.
        this.broadcast(document, { type: 'notice', message: applied.unchanged });
        void vscode.window.showWarningMessage(`ONNX Compress: ${applied.unchanged}`);
        return;
      }
      const { edit } = applied;
      this.changed.fire({ document, label: edit.label, undo: () => this.refresh(document, edit.undo), redo: () => this.refresh(document, edit.redo) });
      this.refresh(document);
    } catch (e) {
      if (e instanceof Error && e.name === 'AbortError') return;
      const message = e instanceof OnnxError ? e.message : String((e as Error).message ?? e);
      this.broadcast(document, { type: 'error', message });
      void vscode.window.showErrorMessage(`ONNX Compress: ${message}`);
    } finally {
      this.broadcast(document, { type: 'busy', label: null });
    }
  }

  private refresh(document: OnnxDocument, change?: () => void): void {
    change?.();
    this.broadcast(document, this.modelMessage(document));
    this.stateChanged.fire(document);
    void this.analyze(document);
  }

  /** The worker pool, sized by `onnxCompress.analysis.workers` (0: one per core, at most 4); rebuilt when that changes. */
  private pool(): AnalysisClient {
    const count = analysisWorkerCount();
    if (this.client?.workerCount !== count) {
      void this.client?.dispose();
      this.client = new AnalysisClient(path.join(this.context.extensionPath, 'dist', 'analysisWorker.js'), count);
    }
    return this.client;
  }

  /** Runs `use` on a file holding the current model: the file itself, or a private temporary copy of the edited model (the workers read files). */
  private async withModelFile<T>(document: OnnxDocument, use: (file: string) => Promise<T>): Promise<T> {
    const session = document.session;
    if (session.steps.length === 0) return use(session.file);
    const temp = await saveTempModel(session.state, 'edit', `${crypto.randomUUID()}.onnx`);
    try {
      return await use(temp.file);
    } finally {
      temp.dispose();
    }
  }

  /**
   * Statistics and redundancy of the current model, in the worker pool; each layer is shown as it
   * is done; a newer version cancels an older run. Layers with a weight over the eager limit wait
   * until asked for (analyzeLayer).
   */
  private async analyze(document: OnnxDocument): Promise<void> {
    this.analyses.get(document)?.abort();
    const abort = new AbortController();
    this.analyses.set(document, abort);
    const version = document.session.version;
    const shown = new ShownAnalysis(version);
    this.shown.set(document, shown);
    const current = (): boolean => document.session.version === version && this.shown.get(document) === shown;
    const reported = new Set<number>();
    let pending: { index: number; layer: TableLayer }[] = [];
    let flush: NodeJS.Timeout | undefined;
    const sendLayers = (): void => {
      clearTimeout(flush);
      flush = undefined;
      if (pending.length && current()) this.broadcast(document, { type: 'layers', layers: pending, version });
      pending = [];
    };
    try {
      const analysis = await this.withModelFile(document, (file) =>
        this.pool().analyze(file, analysisOptions(), {
          signal: abort.signal,
          onProgress: (p) => this.broadcast(document, { type: 'progress', message: `analyzing layer ${p.layersDone} of ${p.layersTotal}`, fraction: p.elementsDone / Math.max(1, p.elementsTotal) }),
          progressEveryMs: 100,
          onLayer: (index, layer) => {
            shown.add(index, layer);
            reported.add(index);
            pending.push({ index, layer: tableLayer(layer) });
            flush ??= setTimeout(sendLayers, 150); // batched: thousands of small layers, a few messages
          },
        }),
      );
      if (!current()) return;
      shown.finish(analysis);
      sendLayers();
      const { layers, ...totals } = analysis;
      // Layers the workers did not report one by one (those left for later) go with the totals.
      const rest = layers.flatMap((layer, index) => (reported.has(index) ? [] : [{ index, layer: tableLayer(layer) }]));
      if (rest.length) this.broadcast(document, { type: 'layers', layers: rest, version });
      this.broadcast(document, { type: 'analysis', analysis: totals, version });
    } catch (e) {
      if (e instanceof AnalysisCancelled) return;
      // Not kept for replay: a webview that reloads asks again.
      if (this.shown.get(document) === shown) this.shown.delete(document);
      this.broadcast(document, { type: 'error', message: `analysis failed: ${(e as Error).message}` });
    } finally {
      clearTimeout(flush);
    }
  }

  /** Analyzes one layer that was deferred when the model opened, and adds it to the analysis shown. */
  private async analyzeLayer(document: OnnxDocument, index: number): Promise<void> {
    const shown = this.shown.get(document);
    const version = document.session.version;
    const deferred = shown?.version === version && shown.done ? shown.layer(index) : undefined;
    if (!shown || !deferred?.deferred) return;
    this.broadcast(document, { type: 'busy', label: `Analyzing ${deferred.name}…` });
    try {
      const part = await this.withModelFile(document, (file) =>
        this.pool().analyze(file, { ...analysisOptions(), layers: [index] }, { onProgress: () => undefined }),
      );
      if (document.session.version !== version || this.shown.get(document) !== shown) return;
      shown.add(index, part.layers[index]);
      this.broadcast(document, { type: 'layers', layers: [{ index, layer: tableLayer(part.layers[index]) }], version });
    } catch (e) {
      this.broadcast(document, { type: 'error', message: `analysis failed: ${(e as Error).message}` });
    } finally {
      this.broadcast(document, { type: 'busy', label: null });
    }
  }

  async saveCustomDocument(document: OnnxDocument): Promise<void> {
    await document.save();
    this.refresh(document);
  }

  async saveCustomDocumentAs(document: OnnxDocument, destination: vscode.Uri): Promise<void> {
    await document.saveAs(destination);
  }

  async revertCustomDocument(document: OnnxDocument): Promise<void> {
    await document.revert();
    this.refresh(document);
  }

  backupCustomDocument(document: OnnxDocument, context: vscode.CustomDocumentBackupContext): Thenable<vscode.CustomDocumentBackup> {
    return document.backup(context.destination);
  }

  private html(webview: vscode.Webview, dist: vscode.Uri, media: vscode.Uri): string {
    return webviewHtml(webview, { script: vscode.Uri.joinPath(dist, 'editor.js'), style: vscode.Uri.joinPath(media, 'editor.css'), title: 'ONNX model' });
  }
}

