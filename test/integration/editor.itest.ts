/**
 * The model editor in real VS Code (code-server's workbench with a Node extension host): open a
 * model with the custom editor, apply each transform through the same commands the UI uses,
 * undo/redo, save, reopen, revert, and check the saved bytes with the core.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { suite, test, suiteSetup } from 'mocha';
import { openModel } from '../../src/core/onnx/model';
import { DataType } from '../../src/core/onnx/dataTypes';
import type { OnnxEditorProvider } from '../../src/host/onnxEditorProvider';
import { OnnxDocument } from '../../src/host/onnxDocument';
import type { ReportView } from '../../src/host/reportView';
import type { AccuracyCheck, CompressionReport } from '../../src/report/compressionReport';
import { smallCnn } from '../helpers/smallModels';
import { storedBytes } from '../../src/transforms/apply';
import { baselineLines } from '../../src/report/baselines';
import { until } from './until';

let editor: OnnxEditorProvider;
let reportView: ReportView;
let dir: string;
let extensionPath: string;

const activeTabDirty = () => vscode.window.tabGroups.activeTabGroup.activeTab?.isDirty;

async function openInEditor(name: string, bytes: Uint8Array): Promise<vscode.Uri> {
  const file = path.join(dir, name);
  fs.writeFileSync(file, bytes);
  const uri = vscode.Uri.file(file);
  await vscode.commands.executeCommand('vscode.openWith', uri, 'onnxCompress.editor');
  await until('the editor document', () => (editor.activeDocument?.uri.fsPath === file ? true : undefined));
  return uri;
}

suite('ONNX model editor', () => {
  suiteSetup(async () => {
    const extension = vscode.extensions.all.find((e) => e.packageJSON.name === 'onnx-compress');
    assert.ok(extension, 'the extension is loaded');
    extensionPath = extension.extensionPath;
    const api = (await extension.activate()) as { editor: OnnxEditorProvider; report: ReportView };
    editor = api.editor;
    reportView = api.report;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-itest-'));
  });

  test('*.onnx opens in the ONNX editor by default', async () => {
    const file = path.join(dir, 'default.onnx');
    fs.writeFileSync(file, smallCnn());
    await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(file));
    const tab = await until('a tab', () => vscode.window.tabGroups.activeTabGroup.activeTab);
    assert.ok(tab.input instanceof vscode.TabInputCustom, 'a custom editor tab');
    assert.equal((tab.input as vscode.TabInputCustom).viewType, 'onnxCompress.editor');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('quantize through the command, undo and redo, save: the file holds INT8 weights', async () => {
    const uri = await openInEditor('quantize.onnx', smallCnn());
    const document = editor.activeDocument!;
    await vscode.commands.executeCommand('onnxCompress.quantizeSelection', 'INT8 per channel');
    assert.equal(document.session.steps.length, 1);
    await until('the dirty marker', () => activeTabDirty());
    await vscode.commands.executeCommand('undo');
    await until('undo', () => document.session.steps.length === 0);
    await until('a clean tab after undo', () => activeTabDirty() === false);
    await vscode.commands.executeCommand('redo');
    await until('redo', () => document.session.steps.length === 1);
    await vscode.commands.executeCommand('workbench.action.files.save');
    await until('the save', () => activeTabDirty() === false);
    const saved = openModel(uri.fsPath);
    assert.ok(saved.index.tensors.some((t) => t.name === 'conv2.w_quantized' && t.dataType === DataType.Int8));
    assert.ok(saved.proto.graph!.node.some((n) => n.opType === 'DequantizeLinear'));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('every transform applies through its command, one that changes nothing is no edit; revert goes back to the file', async () => {
    const original = smallCnn();
    const uri = await openInEditor('all.onnx', original);
    const document = editor.activeDocument!;
    // The small CNN's random weights are full rank: factorizing keeps no layer smaller, so nothing is recorded.
    await vscode.commands.executeCommand('onnxCompress.factorizeSelection', 'keep 95% energy');
    assert.equal(document.session.steps.length, 0);
    assert.equal(activeTabDirty(), false, 'no dirty marker for an edit that changed nothing');
    await vscode.commands.executeCommand('onnxCompress.pruneSelection', '30% smallest weights');
    await vscode.commands.executeCommand('onnxCompress.clusterSelection', '16 shared values');
    // Clustered weights are codebooks and indices: no weight matrix is left for FLOAT16.
    await vscode.commands.executeCommand('onnxCompress.quantizeSelection', 'FLOAT16 weights');
    assert.equal(document.session.steps.length, 2);
    assert.deepEqual(
      document.edits.map((e) => e.label),
      ['Prune all layers 30% unstructured', 'Cluster all layers into 16'],
    );
    await until('the dirty marker', () => activeTabDirty());
    await vscode.commands.executeCommand('workbench.action.files.revert');
    await until('revert', () => document.session.steps.length === 0);
    await until('a clean tab after revert', () => activeTabDirty() === false);
    const onDisk = fs.readFileSync(uri.fsPath);
    assert.ok(onDisk.equals(Buffer.from(original)), `the file was never written (${onDisk.length} bytes on disk, ${original.length} originally)`);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('a clean document follows a change on disk; our own save is not taken for one', async () => {
    const uri = await openInEditor('watched.onnx', smallCnn());
    const document = editor.activeDocument!;
    const constants = () => document.session.state.proto.graph!.node.filter((n) => n.opType === 'Constant').length;
    assert.equal(constants(), 0);
    await new Promise((r) => setTimeout(r, 50)); // a different modification time
    fs.writeFileSync(uri.fsPath, smallCnn({ constantWeight: true }));
    await until('the reload from disk', () => constants() === 1);
    await vscode.commands.executeCommand('onnxCompress.quantizeSelection', 'INT8 per channel');
    await until('the dirty marker', () => activeTabDirty());
    await vscode.commands.executeCommand('workbench.action.files.save');
    await until('the save', () => activeTabDirty() === false);
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(document.session.onDisk, 'saved, and not reverted by the watcher');
    assert.ok(openModel(uri.fsPath).proto.graph!.node.some((n) => n.opType === 'DequantizeLinear'));
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  test('save as writes a new file and leaves the original alone', async () => {
    const original = smallCnn();
    const uri = await openInEditor('source.onnx', original);
    await vscode.commands.executeCommand('onnxCompress.clusterSelection', '256 shared values');
    const target = vscode.Uri.file(path.join(dir, 'copy.onnx'));
    await editor.saveCustomDocumentAs(editor.activeDocument!, target);
    assert.ok(fs.readFileSync(uri.fsPath).equals(Buffer.from(original)));
    assert.ok(openModel(target.fsPath).index.tensors.some((t) => t.name.endsWith('_codebook')));
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('the Compression Report exports what the edits did, as JSON, Markdown and HTML', async () => {
    const original = smallCnn();
    await openInEditor('report.onnx', original);
    await vscode.commands.executeCommand('onnxCompress.quantizeSelection', 'INT8 per channel');
    const target = (name: string): vscode.Uri => vscode.Uri.file(path.join(dir, name));
    await vscode.commands.executeCommand('onnxCompress.exportReport', 'json', target('report.json'));
    const report = JSON.parse(fs.readFileSync(target('report.json').fsPath, 'utf8')) as CompressionReport;
    assert.equal(report.before.bytes, original.length, 'before: the file on disk');
    assert.ok(report.after.weightBytes < 0.4 * report.before.weightBytes, `weights ${report.before.weightBytes} -> ${report.after.weightBytes}`);
    assert.ok(report.after.gzipBytes < report.before.gzipBytes);
    assert.equal(report.edits.length, 1);
    const conv2 = report.edits[0].changes.find((c) => c.layer === 'conv2');
    assert.ok(conv2 && conv2.sqnrDb !== null && conv2.sqnrDb > 30, `conv2 SQNR ${conv2?.sqnrDb}`);
    await vscode.commands.executeCommand('onnxCompress.exportReport', 'markdown', target('report.md'));
    assert.ok(fs.readFileSync(target('report.md').fsPath, 'utf8').includes(`| ${report.edits[0].label} |`), 'the edit is listed');
    await vscode.commands.executeCommand('onnxCompress.exportReport', 'html', target('report.html'));
    assert.match(fs.readFileSync(target('report.html').fsPath, 'utf8'), /<td>conv2<\/td>/);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('an accuracy check runs the edited model against the file in onnxruntime and joins the report', async () => {
    await openInEditor('check.onnx', smallCnn());
    await vscode.commands.executeCommand('onnxCompress.quantizeSelection', 'INT8 per channel');
    const check = (await vscode.commands.executeCommand('onnxCompress.checkAccuracy', { kind: 'synthetic', samples: 16, seed: 3 })) as AccuracyCheck | undefined;
    assert.ok(check, 'the check ran (workspace trusted)');
    assert.equal(check.samples, 16);
    assert.ok(check.synthetic);
    assert.ok(check.outputSqnrDb !== undefined && check.outputSqnrDb > 20, `output SQNR ${check.outputSqnrDb}`);
    // The default budget (1 point of agreement) gives a verdict; the report opens with it.
    assert.match(check.verdict?.line ?? '', /^(PASS|FAIL): .*agreement/);
    assert.ok(check.outputs?.length, 'each output with the metrics of its task');
    const report = await reportView.build(editor.activeDocument!);
    assert.equal(report.accuracy.length, 1);
    const exported = vscode.Uri.file(path.join(dir, 'check.md'));
    await vscode.commands.executeCommand('onnxCompress.exportReport', 'markdown', exported);
    assert.ok(fs.readFileSync(exported.fsPath, 'utf8').startsWith(`**${check.verdict!.line}**`), 'the verdict first');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('an accuracy check of a language model scores it by perplexity and next-token agreement (not as CTC)', async () => {
    const gpt = path.join(extensionPath, 'test', 'fixtures', 'gpt');
    // The model as read (the check compares the document with the file): agreement 1, perplexity unchanged.
    await openInEditor('gpt.onnx', fs.readFileSync(path.join(gpt, 'tiny-gpt.onnx')));
    const check = (await vscode.commands.executeCommand('onnxCompress.checkAccuracy', { kind: 'numpy', path: path.join(gpt, 'test-windows.npz') })) as AccuracyCheck | undefined;
    assert.ok(check, 'the check ran');
    assert.match(check.outputs?.[0] ?? '', /^Scored as a language model: /);
    assert.ok(check.outputs?.some((l) => /^perplexity [\d.]+ → [\d.]+ on \d+ predicted tokens$/.test(l)), check.outputs?.join(' | '));
    assert.equal(check.agreement, 1, 'next-token agreement of the model with itself');
    assert.match(check.verdict?.line ?? '', /^PASS: .*next-token/);
    // Closed by its tab: the check's progress notification may hold the focus.
    const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.label === 'gpt.onnx');
    assert.ok(tab && (await vscode.window.tabGroups.close(tab)), 'gpt.onnx closed');
  });

  test('the walkthrough: open the bundled sample, quantize it, check accuracy on its labelled test set', async () => {
    const uri = (await vscode.commands.executeCommand('onnxCompress.openSample')) as vscode.Uri;
    const document = await until('the sample in the editor', () => (editor.activeDocument?.uri.fsPath === uri.fsPath ? editor.activeDocument : undefined));
    assert.ok(!uri.fsPath.includes(path.join('samples', 'digits-cnn.onnx')), 'a copy, not the installed file');
    await vscode.commands.executeCommand('onnxCompress.quantizeSelection', 'INT8 per channel');
    const check = (await vscode.commands.executeCommand('onnxCompress.checkSampleAccuracy')) as AccuracyCheck | undefined;
    assert.ok(check, 'the check ran');
    assert.equal(check.samples, 360);
    assert.equal(check.synthetic, false);
    // PyTorch measured 99.44% at training time (samples/digits-reference.json); INT8 keeps it within a point.
    assert.ok(Math.abs(check.baselineAccuracy! - 0.99444) < 1e-4, `baseline ${check.baselineAccuracy}`);
    assert.ok(check.candidateAccuracy! >= check.baselineAccuracy! - 0.01, `INT8 ${check.candidateAccuracy}`);
    assert.match(check.verdict!.line, /^PASS: 1 budget check met: accuracy top-1 accuracy change .* meets drop ≤ 1\.00 pt/);
    assert.ok(check.candidateBytes < 0.3 * fs.statSync(uri.fsPath).size, `${check.candidateBytes} bytes`);
    assert.equal(document.edits.length, 1);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('a backup holds the steps; restoring it replays them on the file', async () => {
    const original = smallCnn();
    const uri = await openInEditor('backup.onnx', original);
    await vscode.commands.executeCommand('onnxCompress.pruneSelection', '50% smallest weights');
    await vscode.commands.executeCommand('onnxCompress.quantizeSelection', 'INT8 per channel');
    const document = editor.activeDocument!;
    const destination = vscode.Uri.file(path.join(dir, 'backups', 'backup.json'));
    const backup = await editor.backupCustomDocument(document, { destination });
    const restored = await OnnxDocument.create(uri, backup.id);
    assert.deepEqual(restored.session.steps, document.session.steps);
    const names = (d: OnnxDocument): string[] => d.session.state.index.tensors.map((t) => `${t.name}:${t.dataType}:${t.bytes}`).sort();
    assert.deepEqual(names(restored), names(document));
    assert.ok(fs.readFileSync(uri.fsPath).equals(Buffer.from(original)), 'the file is untouched');
    backup.delete();
    restored.dispose();
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('apply INT8, save, undo: dirty, the model on screen is analyzed and backed up, a change on disk asks, the report keeps the opened baseline', async () => {
    const sample = fs.readFileSync(path.join(extensionPath, 'samples', 'digits-cnn.onnx'));
    const uri = await openInEditor('undo-after-save.onnx', sample);
    const document = editor.activeDocument!;
    const session = editor.sessionOf(document)!;
    const openedWeights = storedBytes(document.session.state);
    await vscode.commands.executeCommand('onnxCompress.quantizeSelection', 'INT8 per channel');
    await until('the dirty marker', () => activeTabDirty());
    await vscode.commands.executeCommand('workbench.action.files.save');
    await until('the save', () => activeTabDirty() === false);
    const savedBytes = fs.statSync(uri.fsPath).size;
    assert.ok(savedBytes < 0.3 * sample.length, `${savedBytes} bytes saved`);

    // After the save the report still compares with the model as opened, and with the save.
    const afterSave = await reportView.build(document);
    assert.equal(afterSave.before.bytes, sample.length, 'baseline: the model as opened');
    assert.equal(afterSave.saved?.bytes, savedBytes, 'since last save: the file as saved');
    assert.equal(afterSave.edits.length, 1, 'the edit since opened is still listed');
    assert.match(baselineLines(afterSave)[0], /^since opened: 1\.08 MiB → 281\.\d KiB/);
    assert.match(baselineLines(afterSave)[1], /^since last save: 281\.\d KiB → 281\.\d KiB/);

    await vscode.commands.executeCommand('undo');
    await until('undo', () => document.session.steps.length === 0);
    await until('a dirty tab after undo past the save', () => activeTabDirty() === true);
    assert.equal(document.session.onDisk, false, 'no steps, yet not the file on disk');
    assert.equal(storedBytes(document.session.state), openedWeights);

    // The analysis is of the model on screen, not of the quantized file.
    const shown = await until('the analysis of the model shown', () => session.analysis?.finished ?? undefined, 60_000);
    assert.equal(shown.model.weightBytes, openedWeights, `analyzed ${shown.model.weightBytes} weight bytes, the model shown has ${openedWeights}`);

    // The hot-exit backup rebuilds the model on screen.
    const destination = vscode.Uri.file(path.join(dir, 'backups', 'undo-after-save.json'));
    const backup = await editor.backupCustomDocument(document, { destination });
    const restored = await OnnxDocument.create(uri, backup.id);
    assert.equal(storedBytes(restored.session.state), openedWeights, 'the restored model is the one on screen');
    assert.ok(!restored.session.state.proto.graph!.node.some((n) => n.opType === 'DequantizeLinear'));
    assert.equal(restored.session.onDisk, false);
    backup.delete();
    restored.dispose();

    // A change on disk does not silently replace it: the user is asked.
    await new Promise((r) => setTimeout(r, 50));
    fs.writeFileSync(uri.fsPath, smallCnn());
    await until('the question about the change on disk', () => session.askingAboutDiskChange || undefined);
    assert.equal(storedBytes(document.session.state), openedWeights, 'still the model on screen');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });

  test('static quantization from the editor calibrates in onnxruntime and changes layers', async () => {
    await openInEditor('static.onnx', smallCnn());
    const document = editor.activeDocument!;
    await editor.applyStep(document, { transform: 'quantize', mode: 'static', layers: '*' });
    assert.equal(document.session.steps.length, 1, 'an edit, not a step that skipped every layer');
    assert.ok(document.edits[0].layers.length > 0, `changed ${document.edits[0].layers.join(', ')}`);
    assert.ok(document.session.state.proto.graph!.node.some((n) => n.opType === 'QuantizeLinear'), 'activations are quantized');
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
