/**
 * Command-palette and keybinding entries for the model editor: quantize / prune / cluster /
 * factorize the selected layers (all layers when none is selected) of the editor in front,
 * with the presets the editor's form offers (src/shared/presets.ts). They run through the same path as the webview.
 */
import * as vscode from 'vscode';
import type { OnnxEditorProvider } from './onnxEditorProvider';
import { PRESETS, type Preset } from '../shared/presets';
import { transformDefaults } from './settings';
import { plural } from '../shared/format';


export function registerEditorCommands(context: vscode.ExtensionContext, provider: OnnxEditorProvider): void {
  for (const transform of Object.keys(PRESETS) as (keyof typeof PRESETS)[]) {
    const id = `onnxCompress.${transform}Selection`;
    context.subscriptions.push(
      vscode.commands.registerCommand(id, async (presetLabel?: string) => {
        const document = provider.documentForCommand();
        if (!document) return;
        // Tests and keybindings may name the preset; people pick it. The user's default comes first.
        const mine = transformDefaults()[transform];
        const choices: Preset[] = [...(mine ? [{ label: 'Your default', description: JSON.stringify(mine), step: mine }] : []), ...PRESETS[transform]];
        const preset =
          choices.find((p) => p.label === presetLabel) ??
          (await vscode.window.showQuickPick(choices, { title: `${transform[0].toUpperCase()}${transform.slice(1)} ${provider.selectionOf(document).length ? plural(provider.selectionOf(document).length, 'layer') : 'all layers'}` }));
        if (!preset) return;
        const selection = provider.selectionOf(document);
        await provider.applyStep(document, { ...preset.step, layers: selection.length ? [...selection] : '*' });
      }),
    );
  }
}
