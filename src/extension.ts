/**
 * The extension's entry point: the host layer. Everything that reads or changes models lives in
 * the vscode-free core (src/core, src/analyzers, src/transforms); this file only wires it to VS Code.
 */
import * as vscode from 'vscode';
import { registerAnalyzeCommand } from './host/analyzeCommand';

export function activate(context: vscode.ExtensionContext): void {
  registerAnalyzeCommand(context);
}

export function deactivate(): void {
  // Nothing to release: every resource is owned by a disposable in context.subscriptions.
}
