/**
 * Command-palette and keybinding entries for the model editor: quantize / prune / cluster /
 * factorize the selected layers (all layers when none is selected) of the editor in front,
 * with the same presets as the editor's form. They run through the same path as the webview.
 */
import * as vscode from 'vscode';
import type { OnnxEditorProvider } from './onnxEditorProvider';

const PRESETS: Record<string, { label: string; step: Record<string, unknown> }[]> = {
  quantize: [
    { label: 'INT8 per channel', step: { transform: 'quantize', dtype: 'int8', granularity: 'per-channel' } },
    { label: 'INT4 blocks of 32', step: { transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 32 } },
    { label: 'FLOAT16 weights', step: { transform: 'quantize', dtype: 'float16' } },
  ],
  prune: [
    { label: '30% smallest weights', step: { transform: 'prune', sparsity: 0.3 } },
    { label: '2:4 structured', step: { transform: 'prune', pattern: '2:4' } },
    { label: '25% of output channels', step: { transform: 'prune', pattern: 'channel', sparsity: 0.25 } },
  ],
  cluster: [
    { label: '16 shared values', step: { transform: 'cluster', clusters: 16 } },
    { label: '256 shared values', step: { transform: 'cluster', clusters: 256 } },
  ],
  factorize: [
    { label: 'keep 99% energy', step: { transform: 'factorize', energy: 0.99 } },
    { label: 'keep 95% energy', step: { transform: 'factorize', energy: 0.95 } },
  ],
};

export function registerEditorCommands(context: vscode.ExtensionContext, provider: OnnxEditorProvider): void {
  for (const transform of Object.keys(PRESETS)) {
    const id = `onnxCompress.${transform}Selection`;
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (presetLabel?: string) => {
        const document = provider.activeDocument;
        if (!document) {
          void vscode.window.showInformationMessage('ONNX Compress: open a model in the ONNX editor first.');
          return;
        }
        // Tests and keybindings may name the preset; people pick it.
        const preset =
          PRESETS[transform].find((p) => p.label === presetLabel) ??
          (await vscode.window.showQuickPick(PRESETS[transform], { title: `${transform[0].toUpperCase()}${transform.slice(1)} ${provider.selectionOf(document).length || 'all'} layer(s)` }));
        if (!preset) return;
        const selection = provider.selectionOf(document);
        await provider.applyStep(document, { ...preset.step, layers: selection.length ? [...selection] : '*' });
      }),
    );
  }
}
