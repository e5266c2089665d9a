/**
 * One open ONNX document in the editor, and everything that belongs to it: its panels, the
 * selection, the analysis running and the analysis shown, the accuracy checks and their
 * dataset, the report's baseline figures, and the watch on its file. The document (and its
 * ModelSession) knows which model is shown and which one the file holds; this object keeps
 * the views in step with it. The provider only routes VS Code's calls here.
 */
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { OnnxError } from '../core/errors';
import { saveTempModel } from '../core/onnx/tempModel';
import { graphValues } from '../core/onnx/graphValues';
import { summarizeModel, type ModelSummary } from '../analyzers/modelSummary';
import { AnalysisCancelled } from '../analyzers/worker/analysisClient';
import { attributeLayers, type Layer } from '../analyzers/layers';
import { parseStep, type RecipeStep } from '../transforms/recipe';
import type { TransformServices } from '../transforms/transform';
import type { DatasetSpec } from '../eval/dataset';
import type { AccuracyCheck } from '../report/compressionReport';
import { tableLayer, type TableLayer } from '../shared/tableLayer';
import { isFromWebview, type ToWebview } from '../shared/protocol';
import { analysisOptions, transformDefaults } from './settings';
import { ShownAnalysis } from './shownAnalysis';
import { formPreview } from './formPreview';
import { analysisProgress } from '../shared/format';
import { ReportFigures } from './reportFigures';
import { logIgnoredMessage } from './log';
import { rememberedCalibration } from './inputMemory';
import type { AnalysisPool } from './analysisPool';
import type { OnnxDocument } from './onnxDocument';

/** In words, what calibration (GPTQ, static quantization) runs on: data chosen for it, else the last accuracy check's, else random inputs. */
function calibrationSource(chosen: DatasetSpec | undefined, checked: DatasetSpec | undefined): string {
  if (chosen?.kind === 'numpy') return `${path.basename(chosen.path)} (chosen for calibration)`;
  if (checked?.kind === 'numpy') return `${path.basename(checked.path)} (the data of the last accuracy check)`;
  if (checked?.kind === 'synthetic') return 'random inputs with the shapes of the last accuracy check';
  return 'random inputs: choose NumPy data, or run Check accuracy… on your data';
}

/** What the session needs from the extension: shared by every session. */
export interface SessionHost {
  readonly pool: AnalysisPool;
  /** Runs `use` with the transform services the CLI wires too (onnxruntime for calibration), calibrating by default on `dataset`. */
  withServices<T>(file: string, dataset: DatasetSpec | undefined, use: (services: TransformServices) => Promise<T>): Promise<T>;
  /** Tells VS Code about an edit (dirty marker, undo stack). */
  edited(session: EditorSession, label: string, undo: () => void, redo: () => void): void;
  /** The model shown changed (edit, undo, save, revert) or a panel came to the front or went away. */
  changed(session: EditorSession, event: 'model' | 'active' | 'closed'): void;
  html(webview: vscode.Webview): string;
}

export class EditorSession {
  private readonly panels = new Set<vscode.WebviewPanel>();
  private selected: readonly string[] = [];
  private running: AbortController | undefined;
  /** The step being applied, stopped by the form's Cancel. */
  private applying: AbortController | undefined;
  /** The analysis of the current version, complete or still coming in. */
  private shown: ShownAnalysis | undefined;
  /** The summary last sent (the preview's layers), and the model's layers, per version. */
  private summary: { version: number; summary: ModelSummary } | undefined;
  private layers: { version: number; layers: readonly Layer[] } | undefined;
  /** Accuracy checks run on this document, oldest first. */
  readonly checks: AccuracyCheck[] = [];
  /** The dataset of the last accuracy check: static quantization calibrates on it by default. */
  dataset: DatasetSpec | undefined;
  /** Data chosen to calibrate on (the form's Choose…, remembered per model); when unset, the last check's dataset. */
  private calibrationData: DatasetSpec | undefined;
  /** Shapes last given for the model's symbolic inputs, offered again next time. */
  shapes: Record<string, number[]> = {};
  /** Values last given for integer inputs synthetic data cannot make up (a sample rate), offered again next time. */
  values: Record<string, number> = {};
  /** Size figures for the report: the model as opened (the session's baseline) and the file as saved. */
  readonly figures: ReportFigures;
  /** Whether this session wrote the file (the report then shows "since last save" too). */
  savedInSession = false;
  /** Set while the user is asked what to do about a change of the file on disk. */
  askingAboutDiskChange = false;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly document: OnnxDocument,
    private readonly host: SessionHost,
  ) {
    this.figures = new ReportFigures(document.session.file);
    this.calibrationData = rememberedCalibration(document.session.file);
    this.watch();
  }

  get selection(): readonly string[] {
    return this.selected;
  }

  get hasPanels(): boolean {
    return this.panels.size > 0;
  }

  /** The analysis shown for the current model, if any (tests wait on it). */
  get analysis(): ShownAnalysis | undefined {
    return this.shown?.version === this.document.session.version ? this.shown : undefined;
  }

  addPanel(panel: vscode.WebviewPanel, extensionUri: vscode.Uri): void {
    this.panels.add(panel);
    const dist = vscode.Uri.joinPath(extensionUri, 'dist', 'webviews');
    const media = vscode.Uri.joinPath(extensionUri, 'media');
    panel.webview.options = { enableScripts: true, localResourceRoots: [dist, media] };
    panel.webview.html = this.host.html(panel.webview);
    const activate = (): void => {
      if (panel.active) this.host.changed(this, 'active');
    };
    activate();
    panel.onDidChangeViewState(activate);
    panel.onDidDispose(() => {
      this.panels.delete(panel);
      if (this.panels.size) return;
      // No view left: nothing to analyze for; a panel opened later starts again.
      this.running?.abort();
      this.shown = this.summary = this.layers = undefined;
      this.host.changed(this, 'closed');
    });
    panel.webview.onDidReceiveMessage((m: unknown) => this.receive(panel, m));
  }

  private receive(panel: vscode.WebviewPanel, m: unknown): void {
    if (!isFromWebview(m)) return logIgnoredMessage('editor', m);
    const session = this.document.session;
    switch (m.type) {
      case 'ready': {
        this.post(panel, this.modelMessage());
        // A webview that reloads (hidden and shown again) gets what is in; only a new version is analyzed again.
        const shown = this.analysis;
        if (shown) for (const message of shown.replay()) this.post(panel, message);
        else void this.analyze();
        return;
      }
      case 'selection':
        this.selected = m.layers;
        return;
      case 'apply':
        void this.applyStep(m.step);
        return;
      case 'cancelApply':
        this.applying?.abort();
        return;
      case 'chooseCalibration':
        void vscode.commands.executeCommand('onnxCompress.chooseCalibrationData');
        return;
      case 'analyzeLayer':
        void this.analyzeLayer(m.index);
        return;
      case 'layerDetail': {
        const layer = this.analysis?.layer(m.index);
        if (layer) this.post(panel, { type: 'layerDetail', index: m.index, layer, version: session.version });
        return;
      }
      case 'preview': {
        const shown = this.analysis ?? new ShownAnalysis(session.version);
        if (this.summary?.version !== session.version) return; // a newer model message is on its way
        this.post(panel, formPreview(m.id, m.step, m.layers, shown, this.summary.summary.layers, this.modelLayers(), session.state));
        return;
      }
    }
  }

  /** The current model's layers (what the preview checks a step against), kept per version. */
  private modelLayers(): readonly Layer[] {
    const { version, state } = this.document.session;
    if (this.layers?.version !== version) this.layers = { version, layers: attributeLayers(state.index).layers };
    return this.layers.layers;
  }

  private post(panel: vscode.WebviewPanel, message: ToWebview): void {
    void panel.webview.postMessage(message);
  }

  broadcast(message: ToWebview): void {
    for (const p of this.panels) this.post(p, message);
  }

  private modelMessage(): ToWebview {
    const s = this.document.session;
    // The summary only needs the file's size, which the session knows: no bytes are passed.
    const summary = summarizeModel({ file: s.file, dir: s.state.dir, bytes: new Uint8Array(0), proto: s.state.proto, index: s.state.index });
    summary.model.fileBytes = s.fileBytes;
    this.summary = { version: s.version, summary };
    const { inputs, outputs } = graphValues(s.state.proto);
    return { type: 'model', summary, inputs, outputs, edits: this.document.edits, savedEdits: s.savedSteps ?? null, version: s.version, defaults: transformDefaults(), calibration: calibrationSource(this.calibrationData, this.dataset) };
  }

  /** Applies a recipe step (from the webview or a command) as an undoable edit, unless it changes no layer; true when it did. */
  async applyStep(raw: Record<string, unknown>): Promise<boolean> {
    let step: RecipeStep;
    try {
      step = parseStep(raw, 'action');
    } catch (e) {
      this.broadcast({ type: 'error', message: (e as Error).message });
      void vscode.window.showErrorMessage(`ONNX Compress: ${(e as Error).message}`);
      return false;
    }
    const document = this.document;
    this.broadcast({ type: 'busy', label: 'Applying…' });
    // Progress in the editor (with its Cancel) and the status bar: a notification would sit over the detail pane.
    const abort = (this.applying = new AbortController());
    try {
      const applied = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'ONNX Compress: applying…' }, () =>
        this.host.withServices(document.session.file, this.calibrationData ?? this.dataset, (services) => document.apply(step, abort.signal, services)),
      );
      if ('unchanged' in applied) {
        // Not an edit: no dirty marker, no undo entry; the editor says why.
        this.broadcast({ type: 'notice', message: applied.unchanged });
        return false;
      }
      const { edit } = applied;
      this.host.edited(this, edit.label, () => this.refresh(edit.undo), () => this.refresh(edit.redo));
      this.refresh();
      return true;
    } catch (e) {
      if (e instanceof Error && e.name === 'AbortError') {
        this.broadcast({ type: 'notice', message: 'Cancelled: the model is unchanged.' });
        return false;
      }
      const message = e instanceof OnnxError ? e.message : String((e as Error).message ?? e);
      this.broadcast({ type: 'error', message });
      void vscode.window.showErrorMessage(`ONNX Compress: ${message}`);
      return false;
    } finally {
      if (this.applying === abort) this.applying = undefined;
      this.broadcast({ type: 'busy', label: null });
    }
  }

  /** After the model shown changed: tell the views, analyze the new one. */
  refresh(change?: () => void): void {
    change?.();
    this.broadcast(this.modelMessage());
    this.host.changed(this, 'model');
    if (this.panels.size) void this.analyze();
  }

  async save(): Promise<void> {
    // The report's baseline is the model as opened: measure the file before it is overwritten.
    await this.figures.opened();
    await this.document.save();
    this.savedInSession = true;
    this.refresh();
  }

  async revert(): Promise<void> {
    await this.document.revert();
    this.refresh();
  }

  addCheck(check: AccuracyCheck, dataset: DatasetSpec): void {
    this.checks.push(check);
    const changed = this.dataset !== dataset;
    this.dataset = dataset;
    // The form says what calibration will use: tell it the new dataset.
    if (changed && this.panels.size) this.broadcast(this.modelMessage());
  }

  /** Calibrates GPTQ and static quantization on `data` from now on (undefined: on the accuracy checks' data). */
  setCalibrationData(data: DatasetSpec | undefined): void {
    this.calibrationData = data;
    if (this.panels.size) this.broadcast(this.modelMessage());
  }

  /**
   * A change of the file on disk that we did not make: a document showing the file follows it;
   * one showing anything else (edits, or undo past a save) asks before it is replaced.
   */
  private watch(): void {
    const document = this.document;
    const file = document.uri.fsPath;
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.joinPath(document.uri, '..'), path.basename(file)));
    const reload = async (): Promise<void> => {
      await document.revert();
      this.figures.reset(); // a new model from disk: the session's baseline starts again
      this.refresh();
    };
    const onChange = async (): Promise<void> => {
      if (document.ownWriteInProgress || !document.changedOnDisk() || this.askingAboutDiskChange) return;
      if (document.session.onDisk) return reload();
      this.askingAboutDiskChange = true;
      try {
        const choice = await vscode.window.showWarningMessage(`${path.basename(file)} changed on disk while you were editing it.`, 'Reload from disk', 'Keep my edits');
        if (choice === 'Reload from disk') await reload();
        else document.acceptDiskVersion();
      } finally {
        this.askingAboutDiskChange = false;
      }
    };
    watcher.onDidChange(() => void onChange());
    watcher.onDidCreate(() => void onChange());
    this.disposables.push(watcher);
  }

  /** Runs `use` on a file holding the current model: the file itself when it holds it, else a private temporary copy (the workers read files). */
  private async withModelFile<T>(use: (file: string) => Promise<T>): Promise<T> {
    const session = this.document.session;
    if (session.onDisk) return use(session.file);
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
  private async analyze(): Promise<void> {
    this.running?.abort();
    const abort = new AbortController();
    this.running = abort;
    const version = this.document.session.version;
    const shown = new ShownAnalysis(version);
    this.shown = shown;
    const current = (): boolean => this.document.session.version === version && this.shown === shown;
    const reported = new Set<number>();
    let pending: { index: number; layer: TableLayer }[] = [];
    let flush: NodeJS.Timeout | undefined;
    const sendLayers = (): void => {
      clearTimeout(flush);
      flush = undefined;
      if (pending.length && current()) this.broadcast({ type: 'layers', layers: pending, version });
      pending = [];
    };
    try {
      const analysis = await this.withModelFile((file) =>
        this.host.pool.get().analyze(file, analysisOptions(), {
          signal: abort.signal,
          onProgress: (p) => this.broadcast({ type: 'progress', message: `Analyzing: ${analysisProgress(p)}`, fraction: p.elementsDone / Math.max(1, p.elementsTotal) }),
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
      if (rest.length) this.broadcast({ type: 'layers', layers: rest, version });
      this.broadcast({ type: 'analysis', analysis: totals, version });
    } catch (e) {
      if (e instanceof AnalysisCancelled) return;
      // Not kept for replay: a webview that reloads asks again.
      if (this.shown === shown) this.shown = undefined;
      this.broadcast({ type: 'error', message: `analysis failed: ${(e as Error).message}` });
    } finally {
      clearTimeout(flush);
    }
  }

  /** Analyzes one layer that was deferred when the model opened, and adds it to the analysis shown. */
  private async analyzeLayer(index: number): Promise<void> {
    const shown = this.analysis;
    const version = this.document.session.version;
    const deferred = shown?.done ? shown.layer(index) : undefined;
    if (!shown || !deferred?.deferred) return;
    this.broadcast({ type: 'busy', label: `Analyzing ${deferred.name}…` });
    try {
      const part = await this.withModelFile((file) => this.host.pool.get().analyze(file, { ...analysisOptions(), layers: [index] }, { onProgress: () => undefined }));
      if (this.document.session.version !== version || this.shown !== shown) return;
      shown.add(index, part.layers[index]);
      this.broadcast({ type: 'layers', layers: [{ index, layer: tableLayer(part.layers[index]) }], version });
    } catch (e) {
      this.broadcast({ type: 'error', message: `analysis failed: ${(e as Error).message}` });
    } finally {
      this.broadcast({ type: 'busy', label: null });
    }
  }

  dispose(): void {
    this.running?.abort();
    for (const d of this.disposables) d.dispose();
  }
}

