/**
 * Recipe files (`*.onnxrecipe.json`) as documents VS Code understands. The schema gives completion
 * and hover (package.json `jsonValidation`); here: diagnostics for what the parser refuses and for
 * layer names the recipe's model does not have, quick fixes with the names meant, a code lens on
 * each step with its size and error found by running the recipe on the model in memory, and code
 * actions to open the model, apply the recipe to it as undoable edits, or exclude a layer.
 * The reading and the prediction are the core's (transforms/recipeText.ts, report/recipePrediction.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { modify } from 'jsonc-parser/lib/esm/main.js'; // the ESM build: the UMD one requires its parts at run time, which a bundle cannot follow
import { readRecipeText, type RecipeText } from '../transforms/recipeText';
import { ModelSession } from '../transforms/modelSession';
import { attributeLayers, type Layer } from '../analyzers/layers';
import { layerName } from '../transforms/targets';
import { predictRecipe, type StepPrediction } from '../report/recipePrediction';
import { humanBytes, plural } from '../shared/format';
import type { OnnxEditorProvider } from './onnxEditorProvider';

export const RECIPE_SUFFIX = '.onnxrecipe.json';
/** Recipes of models up to this size are run for their code lenses as they are edited; larger ones on request. */
const AUTO_PREDICT_BYTES = 256 * 1024 * 1024;
const QUIET_MS = 400;

export const isRecipe = (d: vscode.TextDocument): boolean => d.uri.scheme === 'file' && d.fileName.endsWith(RECIPE_SUFFIX);

/** The model a recipe names, resolved against the recipe's folder. */
export function recipeModel(d: vscode.TextDocument, read: RecipeText): vscode.Uri | undefined {
  return read.model ? vscode.Uri.file(path.resolve(path.dirname(d.fileName), read.model.path)) : undefined;
}

interface Prediction {
  readonly key: string;
  readonly steps: Promise<StepPrediction[]>;
  done?: StepPrediction[];
}

export class RecipeDocuments implements vscode.CodeLensProvider, vscode.CodeActionProvider {
  private readonly diagnostics = vscode.languages.createDiagnosticCollection('onnxCompress.recipe');
  private readonly lensesChanged = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.lensesChanged.event;
  private readonly layersOf = new Map<string, { mtimeMs: number; layers: readonly Layer[] }>();
  private readonly predictions = new Map<string, Prediction>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly editor: OnnxEditorProvider) {}

  static register(context: vscode.ExtensionContext, editor: OnnxEditorProvider): RecipeDocuments {
    const recipes = new RecipeDocuments(editor);
    const selector: vscode.DocumentSelector = { scheme: 'file', pattern: `**/*${RECIPE_SUFFIX}` };
    context.subscriptions.push(
      recipes.diagnostics,
      recipes.lensesChanged,
      vscode.languages.registerCodeLensProvider(selector, recipes),
      vscode.languages.registerCodeActionsProvider(selector, recipes, { providedCodeActionKinds: [vscode.CodeActionKind.QuickFix, vscode.CodeActionKind.Refactor] }),
      vscode.workspace.onDidOpenTextDocument((d) => recipes.check(d)),
      vscode.workspace.onDidChangeTextDocument((e) => recipes.checkSoon(e.document)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        recipes.diagnostics.delete(d.uri);
        recipes.predictions.delete(d.uri.toString());
      }),
      vscode.commands.registerCommand('onnxCompress.recipe.predict', (uri: vscode.Uri) => recipes.predictNow(uri)),
      vscode.commands.registerCommand('onnxCompress.recipe.excludeLayer', (uri: vscode.Uri, step: number) => recipes.excludeLayer(uri, step)),
    );
    for (const d of vscode.workspace.textDocuments) recipes.check(d);
    return recipes;
  }

  /** The recipe as read now, with layer names checked against its model when that can be read. */
  read(d: vscode.TextDocument): RecipeText {
    return readRecipeText(d.getText(), (model) => this.modelLayers(path.resolve(path.dirname(d.fileName), model)));
  }

  private checkSoon(d: vscode.TextDocument): void {
    if (!isRecipe(d)) return;
    clearTimeout(this.timers.get(d.uri.toString()));
    this.timers.set(d.uri.toString(), setTimeout(() => this.check(d), QUIET_MS));
  }

  private check(d: vscode.TextDocument): void {
    if (!isRecipe(d)) return;
    const read = this.read(d);
    const problems = read.problems.map((p) => {
      const diagnostic = new vscode.Diagnostic(rangeOf(d, p), p.message, vscode.DiagnosticSeverity.Error);
      diagnostic.source = 'ONNX Compress';
      if (p.suggestions?.length) diagnostic.code = 'unknown-layer';
      return diagnostic;
    });
    const model = recipeModel(d, read);
    if (model && read.model && !fs.existsSync(model.fsPath)) {
      problems.push(new vscode.Diagnostic(rangeOf(d, read.model), `no model at ${model.fsPath}`, vscode.DiagnosticSeverity.Error));
    }
    this.diagnostics.set(d.uri, problems);
    this.lensesChanged.fire();
  }

  /** The model's layers, read once per version of the file; undefined when it cannot be read. */
  private modelLayers(file: string): readonly Layer[] | undefined {
    try {
      const { mtimeMs } = fs.statSync(file);
      const known = this.layersOf.get(file);
      if (known?.mtimeMs === mtimeMs) return known.layers;
      const layers = attributeLayers(ModelSession.open(file).state.index).layers;
      this.layersOf.set(file, { mtimeMs, layers });
      return layers;
    } catch {
      return undefined;
    }
  }

  provideCodeLenses(d: vscode.TextDocument): vscode.CodeLens[] {
    const read = this.read(d);
    const model = recipeModel(d, read);
    const top = new vscode.Range(0, 0, 0, 0);
    if (!model) return [new vscode.CodeLens(top, { title: 'Name a "model" (relative to this file) to check layer names and see each step\'s size and error', command: '' })];
    const lenses = [
      new vscode.CodeLens(top, { title: 'Open model', command: 'vscode.openWith', arguments: [model, 'onnxCompress.editor'] }),
      new vscode.CodeLens(top, { title: 'Apply to model…', command: 'onnxCompress.recipe.apply', arguments: [d.uri] }),
    ];
    if (read.problems.length || !fs.existsSync(model.fsPath)) return lenses;
    const prediction = this.prediction(d, read, model, false);
    read.steps.forEach((s, i) => {
      const range = rangeOf(d, { offset: s.offset, length: 0 });
      lenses.push(new vscode.CodeLens(range, stepLens(d.uri, prediction, i)));
    });
    return lenses;
  }

  /** Runs the recipe on its model in memory (once per text and model file); `force` for models above the automatic size. */
  private prediction(d: vscode.TextDocument, read: RecipeText, model: vscode.Uri, force: boolean): Prediction | undefined {
    const stat = fs.statSync(model.fsPath);
    const key = `${d.version}:${model.fsPath}:${stat.mtimeMs}`;
    const known = this.predictions.get(d.uri.toString());
    if (known?.key === key) return known;
    if (!force && stat.size > AUTO_PREDICT_BYTES) return undefined;
    const steps = read.steps.map((s) => s.step!);
    const made: Prediction = { key, steps: this.editor.withServices(model.fsPath, undefined, (services) => predictRecipe(model.fsPath, steps, undefined, services)) };
    made.steps.then(
      (done) => {
        made.done = done;
        this.lensesChanged.fire();
      },
      (e: Error) => {
        made.done = steps.map(() => ({ error: e.message }));
        this.lensesChanged.fire();
      },
    );
    this.predictions.set(d.uri.toString(), made);
    return made;
  }

  private async predictNow(uri: vscode.Uri): Promise<void> {
    const d = await vscode.workspace.openTextDocument(uri);
    const read = this.read(d);
    const model = recipeModel(d, read);
    if (model && !read.problems.length) await this.prediction(d, read, model, true)?.steps;
  }

  provideCodeActions(d: vscode.TextDocument, range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const actions: vscode.CodeAction[] = [];
    const read = this.read(d);
    // Quick fixes: the layer names that were probably meant.
    for (const diagnostic of context.diagnostics.filter((x) => x.code === 'unknown-layer')) {
      const problem = read.problems.find((p) => rangeOf(d, p).isEqual(diagnostic.range));
      for (const name of problem?.suggestions ?? []) {
        const fix = new vscode.CodeAction(`Change to '${name}'`, vscode.CodeActionKind.QuickFix);
        fix.diagnostics = [diagnostic];
        fix.edit = new vscode.WorkspaceEdit();
        fix.edit.replace(d.uri, diagnostic.range, JSON.stringify(name));
        actions.push(fix);
      }
    }
    const model = recipeModel(d, read);
    if (!model) return actions;
    const step = read.steps.findIndex((s) => rangeOf(d, s).contains(range));
    if (step >= 0 && read.steps[step].step) {
      const exclude = new vscode.CodeAction('Exclude a layer from this step…', vscode.CodeActionKind.Refactor);
      exclude.command = { title: exclude.title, command: 'onnxCompress.recipe.excludeLayer', arguments: [d.uri, step] };
      actions.push(exclude);
    }
    const apply = new vscode.CodeAction('Apply to model…', vscode.CodeActionKind.Empty);
    apply.command = { title: apply.title, command: 'onnxCompress.recipe.apply', arguments: [d.uri] };
    const open = new vscode.CodeAction('Open model', vscode.CodeActionKind.Empty);
    open.command = { title: open.title, command: 'vscode.openWith', arguments: [model, 'onnxCompress.editor'] };
    return [...actions, apply, open];
  }

  /** Adds a layer to a step's `exclude`, picked from the model's layers: the ones the step hurts most first. */
  async excludeLayer(uri: vscode.Uri, step: number, pick?: string): Promise<boolean> {
    const d = await vscode.workspace.openTextDocument(uri);
    const read = this.read(d);
    const model = recipeModel(d, read);
    const layers = model && this.modelLayers(model.fsPath);
    const parsed = read.steps[step]?.step;
    if (!layers || !parsed) return false;
    const worst = new Map<string, number>();
    const predicted = this.predictions.get(uri.toString())?.done?.[step];
    if (predicted && 'edit' in predicted) for (const c of predicted.edit.changes) worst.set(c.layer, Math.min(worst.get(c.layer) ?? Infinity, c.sqnrDb ?? Infinity));
    const names = layers.map(layerName).filter((n) => !parsed.exclude.includes(n));
    names.sort((a, b) => (worst.get(a) ?? Infinity) - (worst.get(b) ?? Infinity));
    const items = names.map((n) => ({ label: n, description: worst.has(n) ? `${worst.get(n)!.toFixed(1)} dB` : '' }));
    const chosen = pick ?? (await vscode.window.showQuickPick(items, { title: `Exclude a layer from step ${step + 1}`, placeHolder: 'Layers this step hurts most first' }))?.label;
    if (!chosen) return false;
    const text = d.getText();
    const edits = modify(text, ['steps', step, 'exclude'], [...parsed.exclude, chosen], { formattingOptions: { insertSpaces: true, tabSize: 2 } });
    const edit = new vscode.WorkspaceEdit();
    for (const e of edits) edit.replace(uri, rangeOf(d, e), e.content);
    return vscode.workspace.applyEdit(edit);
  }
}

function rangeOf(d: vscode.TextDocument, span: { offset: number; length: number }): vscode.Range {
  return new vscode.Range(d.positionAt(span.offset), d.positionAt(span.offset + span.length));
}

/** A step's code lens: what it did to the model in memory, or how to find out. */
function stepLens(uri: vscode.Uri, prediction: Prediction | undefined, i: number): vscode.Command {
  if (!prediction) return { title: 'Predict size and error (runs the recipe on the model in memory)', command: 'onnxCompress.recipe.predict', arguments: [uri] };
  const p = prediction.done?.[i];
  if (!prediction.done) return { title: 'Predicting size and error…', command: '' };
  if (!p) return { title: 'Not run: an earlier step failed', command: '' };
  if ('error' in p) return { title: `Fails: ${p.error}`, command: '' };
  if ('unchanged' in p) return { title: `Changes nothing: ${p.unchanged}`, command: '' };
  const e = p.edit;
  const sqnr = e.worstSqnrDb === null ? '' : `, worst weight SQNR ${e.worstSqnrDb.toFixed(1)} dB`;
  const ratio = e.bytesAfter > 0 ? ` (${(e.bytesBefore / e.bytesAfter).toFixed(2)}x)` : '';
  return { title: `${plural(e.layers.length, 'layer')}: weights ${humanBytes(e.bytesBefore)} → ${humanBytes(e.bytesAfter)}${ratio}${sqnr}${e.skipped ? `, ${e.skipped} skipped` : ''}`, command: '' };
}
