/**
 * The extension's entry point: the host layer. Everything that reads or changes models lives in
 * the vscode-free core (src/core, src/analyzers, src/transforms); this file only wires it to VS Code.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { analysisPool } from './host/analysisPool';
import { analysisWorkerCount } from './host/settings';
import { registerAnalyzeCommand } from './host/analyzeCommand';
import { OnnxEditorProvider } from './host/onnxEditorProvider';
import { registerEditorCommands } from './host/editorCommands';
import { ReportView } from './host/reportView';
import { registerSampleCommands } from './host/sampleCommands';
import { RecipeDocuments } from './host/recipeDocuments';
import { registerRecipeCommands } from './host/recipeCommands';
import { registerBudgetCommand } from './host/budgetCommand';
import { registerCalibrationCommand } from './host/calibrationPicker';
import { useInputMemory } from './host/inputMemory';
import { useLog } from './host/log';

export function activate(context: vscode.ExtensionContext): { editor: OnnxEditorProvider; report: ReportView; recipes: RecipeDocuments } {
  // One pool of analysis workers for the whole extension.
  const pool = analysisPool(path.join(context.extensionPath, 'dist', 'analysisWorker.js'), analysisWorkerCount);
  context.subscriptions.push(pool);
  useInputMemory(context.globalState);
  useLog(context);
  registerAnalyzeCommand(context, pool);
  const editor = OnnxEditorProvider.register(context, pool);
  registerEditorCommands(context, editor);
  const report = ReportView.register(context, editor);
  registerSampleCommands(context, editor, report);
  registerBudgetCommand(context, editor, report);
  registerCalibrationCommand(context, editor);
  const recipes = RecipeDocuments.register(context, editor);
  registerRecipeCommands(context, editor, recipes);
  // Returned for integration tests, which drive the editor through the same paths as the UI.
  return { editor, report, recipes };
}

export function deactivate(): void {
  // Nothing to release: every resource is owned by a disposable in context.subscriptions.
}
