/**
 * Recipes between files and the editor: export the edits in effect as a `*.onnxrecipe.json` that
 * names its model, and apply a recipe file to a model as one undoable edit per step (from the
 * recipe's code lens or action, or to the editor in front from the command palette).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { OnnxError } from '../core/errors';
import type { OnnxEditorProvider } from './onnxEditorProvider';
import type { EditorSession } from './editorSession';
import { RECIPE_SUFFIX, recipeModel, type RecipeDocuments } from './recipeDocuments';
import { plural } from '../shared/format';
import { stepToJson } from '../transforms/recipe';

export function registerRecipeCommands(context: vscode.ExtensionContext, editor: OnnxEditorProvider, recipes: RecipeDocuments): void {
  context.subscriptions.push(
    vscode.commands.registerCommand('onnxCompress.exportRecipe', (target?: vscode.Uri) => exportRecipe(editor, target)),
    vscode.commands.registerCommand('onnxCompress.recipe.apply', (uri?: vscode.Uri, model?: vscode.Uri) => applyRecipeFile(editor, recipes, uri, model)),
    vscode.commands.registerCommand('onnxCompress.applyRecipe', async (uri?: vscode.Uri) => {
      const session = editor.sessionForCommand();
      if (!session) return 0;
      const picked = uri ?? (await vscode.window.showOpenDialog({ title: 'Apply a recipe to this model', filters: { Recipes: ['json'] }, defaultUri: vscode.Uri.file(path.dirname(session.document.uri.fsPath)) }))?.[0];
      return picked ? applyRecipeFile(editor, recipes, picked, session.document.uri) : 0;
    }),
  );
}

/** Writes the steps in effect on the editor in front as a recipe beside its model, and opens it. */
async function exportRecipe(editor: OnnxEditorProvider, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  const session = editor.sessionForCommand();
  if (!session) return undefined;
  const model = session.document.uri.fsPath;
  const steps = session.document.session.steps;
  if (!steps.length) {
    void vscode.window.showInformationMessage('ONNX Compress: no edits to export: the model is as it was read from the file.');
    return undefined;
  }
  const suggested = vscode.Uri.file(model.replace(/\.onnx$/i, '') + RECIPE_SUFFIX);
  const file = target ?? (await vscode.window.showSaveDialog({ title: 'Export the edits as a recipe', defaultUri: suggested, filters: { Recipes: ['json'] } }));
  if (!file) return undefined;
  const recipe = {
    description: `The edits made to ${path.basename(model)} in ONNX Compress.`,
    version: 1,
    model: path.relative(path.dirname(file.fsPath), model).split(path.sep).join('/'),
    // As a user would write them: parameters that do not apply are left out (a recipe refuses them).
    steps: steps.map(stepToJson),
  };
  await vscode.workspace.fs.writeFile(file, new TextEncoder().encode(`${JSON.stringify(recipe, null, 2)}\n`));
  await vscode.window.showTextDocument(file, { preview: false, viewColumn: vscode.ViewColumn.Beside });
  return file;
}

/**
 * Applies each step of a recipe file to a model (the recipe's own, or `modelUri`) open in the
 * editor, as undoable edits; stops at a step that changes nothing or fails (the editor says why).
 * Returns how many steps were applied.
 */
async function applyRecipeFile(editor: OnnxEditorProvider, recipes: RecipeDocuments, uri?: vscode.Uri, modelUri?: vscode.Uri): Promise<number> {
  const file = uri ?? vscode.window.activeTextEditor?.document.uri;
  if (!file) return 0;
  const d = await vscode.workspace.openTextDocument(file);
  const read = recipes.read(d);
  const first = read.problems[0];
  if (first) {
    void vscode.window.showErrorMessage(`ONNX Compress: ${path.basename(d.fileName)} line ${d.positionAt(first.offset).line + 1}: ${first.message}`);
    return 0;
  }
  const model = modelUri ?? recipeModel(d, read) ?? (await vscode.window.showOpenDialog({ title: 'The model to apply the recipe to', filters: { 'ONNX models': ['onnx'] } }))?.[0];
  if (!model) return 0;
  let session: EditorSession | undefined;
  try {
    session = await editor.open(model);
  } catch (e) {
    void vscode.window.showErrorMessage(`ONNX Compress: ${e instanceof OnnxError ? e.message : String(e)}`);
  }
  if (!session) return 0;
  const raw = JSON.parse(d.getText()) as { steps: Record<string, unknown>[] };
  let applied = 0;
  for (const step of raw.steps) {
    if (!(await session.applyStep(step))) break;
    applied++;
  }
  const of = `${applied} of ${plural(raw.steps.length, 'step')} of ${path.basename(d.fileName)}`;
  if (applied === raw.steps.length) void vscode.window.showInformationMessage(`ONNX Compress: applied ${of} to ${path.basename(model.fsPath)}; undo with Ctrl+Z.`);
  else void vscode.window.showWarningMessage(`ONNX Compress: applied ${of}; step ${applied + 1} changed nothing or failed (the editor says why).`);
  return applied;
}
