/**
 * A save that cannot be written (the folder refuses new files: immutable, which binds root too):
 * the file on disk stays as it was, the document stays dirty with its edit, and a later save
 * once the folder accepts files again writes the edit.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { suite, test, suiteSetup } from 'mocha';
import type { OnnxEditorProvider } from '../../src/host/onnxEditorProvider';
import { smallCnn } from '../helpers/smallModels';
import { until } from './until';

let editor: OnnxEditorProvider;
const dirty = () => vscode.window.tabGroups.activeTabGroup.activeTab?.isDirty;

suite('A failed save', () => {
  suiteSetup(async () => {
    const extension = vscode.extensions.all.find((e) => e.packageJSON.name === 'onnx-compress')!;
    ({ editor } = (await extension.activate()) as { editor: OnnxEditorProvider });
  });

  test('into a folder that refuses files: the original intact, the document still dirty, a later save works', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-savefail-'));
    const file = path.join(dir, 'model.onnx');
    const original = smallCnn();
    fs.writeFileSync(file, original);
    const session = (await editor.open(vscode.Uri.file(file)))!;
    assert.equal(await session.applyStep({ transform: 'quantize', layers: '*' }), true);
    await until('the dirty marker', () => dirty());
    try {
      execFileSync('chattr', ['+i', dir], { stdio: 'ignore' });
    } catch {
      this.skip(); // a file system without immutable folders: nothing to test here
    }
    try {
      await vscode.commands.executeCommand('workbench.action.files.save').then(undefined, () => undefined);
      await new Promise((r) => setTimeout(r, 500));
      assert.deepEqual(new Uint8Array(fs.readFileSync(file)), original, 'the file on disk is as it was');
      assert.equal(dirty(), true, 'the document is still dirty');
      assert.equal(session.document.session.steps.length, 1, 'the edit is still there');
      assert.deepEqual(fs.readdirSync(dir), ['model.onnx'], 'no temporary file left');
    } finally {
      execFileSync('chattr', ['-i', dir], { stdio: 'ignore' });
    }
    await vscode.commands.executeCommand('workbench.action.files.save');
    await until('a clean tab after the save', () => dirty() === false);
    assert.ok(fs.statSync(file).size < original.length / 2, 'the INT8 model was written');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});
