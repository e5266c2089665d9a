/**
 * Recipe files in real VS Code: the editor exports its edits as a `*.onnxrecipe.json` naming its
 * model; the recipe document gets diagnostics for layer names the model lacks (with quick fixes),
 * a code lens per step with its size and error, a code action adding an exclusion, and applies
 * to its model as undoable edits.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { suite, test, suiteSetup } from 'mocha';
import type { OnnxEditorProvider } from '../../src/host/onnxEditorProvider';
import type { RecipeDocuments } from '../../src/host/recipeDocuments';
import { smallCnn } from '../helpers/smallModels';
import { until } from './until';

let editor: OnnxEditorProvider;
let recipes: RecipeDocuments;
let dir: string;

suite('Recipe files', () => {
  suiteSetup(async () => {
    const extension = vscode.extensions.all.find((e) => e.packageJSON.name === 'onnx-compress')!;
    ({ editor, recipes } = (await extension.activate()) as { editor: OnnxEditorProvider; recipes: RecipeDocuments });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-recipe-'));
  });

  test('export the edits as a recipe naming its model; apply it to a fresh copy as undoable edits', async () => {
    const model = path.join(dir, 'cnn.onnx');
    fs.writeFileSync(model, smallCnn());
    const session = await editor.open(vscode.Uri.file(model));
    assert.ok(session);
    assert.equal(await session.applyStep({ transform: 'quantize', layers: ['conv1', 'fc1'] }), true);
    assert.equal(await session.applyStep({ transform: 'prune', sparsity: 0.5, layers: ['conv2'] }), true);
    const file = vscode.Uri.file(path.join(dir, 'cnn.onnxrecipe.json'));
    await vscode.commands.executeCommand('onnxCompress.exportRecipe', file);
    const written = JSON.parse(fs.readFileSync(file.fsPath, 'utf8'));
    assert.equal(written.model, 'cnn.onnx');
    assert.deepEqual(written.steps.map((s: { transform: string }) => s.transform), ['quantize', 'prune']);
    // Close the recipe (opened beside), then the edited model without saving it.
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
    await until('the model in front', () => vscode.window.tabGroups.activeTabGroup.activeTab?.label === 'cnn.onnx');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');

    // The same recipe on a copy of the model: two undoable edits.
    const copy = path.join(dir, 'copy.onnx');
    fs.writeFileSync(copy, smallCnn());
    const applied = await vscode.commands.executeCommand<number>('onnxCompress.recipe.apply', file, vscode.Uri.file(copy));
    assert.equal(applied, 2);
    const onCopy = editor.sessionOf(editor.activeDocument!)!;
    assert.equal(onCopy.document.uri.fsPath, copy);
    assert.deepEqual(onCopy.document.session.steps.map((s) => s.transform), ['quantize', 'prune']);
    await until('the dirty marker', () => vscode.window.tabGroups.activeTabGroup.activeTab?.isDirty);
    await vscode.commands.executeCommand('undo');
    await until('the undo', () => onCopy.document.session.steps.length === 1);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('a recipe document: a wrong layer name is an error with the names meant; each step has a lens with its size and error; exclude a layer', async () => {
    fs.writeFileSync(path.join(dir, 'model.onnx'), smallCnn());
    const file = path.join(dir, 'edit.onnxrecipe.json');
    fs.writeFileSync(file, JSON.stringify({ version: 1, model: 'model.onnx', steps: [{ transform: 'quantize', layers: ['conv3'] }] }, null, 2));
    const uri = vscode.Uri.file(file);
    const doc = await vscode.workspace.openTextDocument(uri);
    await vscode.window.showTextDocument(doc);
    const problem = await until('the diagnostic', () => vscode.languages.getDiagnostics(uri).find((d) => d.source === 'ONNX Compress'));
    assert.match(problem.message, /no layer named 'conv3' \(did you mean 'conv1' or 'conv2'\?\)/);
    assert.equal(doc.getText(problem.range), '"conv3"');
    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>('vscode.executeCodeActionProvider', uri, problem.range);
    const fix = actions.find((a) => a.title === "Change to 'conv1'");
    assert.ok(fix?.edit, `quick fixes: ${actions.map((a) => a.title).join(', ')}`);
    await vscode.workspace.applyEdit(fix.edit);
    await until('the diagnostic to clear', () => !vscode.languages.getDiagnostics(uri).some((d) => d.source === 'ONNX Compress'));

    // The step's lens: the recipe run on the model in memory.
    let titles: string[] = [];
    for (let i = 0; i < 200 && !titles.some((t) => t.includes('weights')); i++) {
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri, 10);
      titles = lenses.map((l) => l.command?.title ?? '');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(titles.includes('Open model') && titles.includes('Apply to model…'), titles.join(' | '));
    assert.ok(titles.some((t) => /^1 layer: weights .+ → .+ \(\d+\.\d\dx\), worst weight SQNR \d+\.\d dB$/.test(t)), titles.join(' | '));

    assert.equal(await recipes.excludeLayer(uri, 0, 'fc1'), true);
    assert.deepEqual(JSON.parse(doc.getText()).steps[0].exclude, ['fc1']);
    await vscode.commands.executeCommand('workbench.action.files.save');
  });
});
