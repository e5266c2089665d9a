/**
 * Compress to budget in real VS Code: one preset taken as far as the settings' accuracy budget
 * allows, measured in onnxruntime, applied as one undoable edit, its verdict in the report.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { suite, test, suiteSetup } from 'mocha';
import type { OnnxEditorProvider } from '../../src/host/onnxEditorProvider';
import { smallCnn } from '../helpers/smallModels';

let editor: OnnxEditorProvider;
let dir: string;

suite('Compress to budget', () => {
  suiteSetup(async () => {
    const extension = vscode.extensions.all.find((e) => e.packageJSON.name === 'onnx-compress')!;
    ({ editor } = (await extension.activate()) as { editor: OnnxEditorProvider });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-budget-'));
  });

  test('the largest plan whose measured verdict passes the budget, applied as one undoable edit, its verdict in the report', async () => {
    const config = vscode.workspace.getConfiguration('onnxCompress');
    // One budget: output SQNR of at least 15 dB (INT4 on every layer of this CNN gives less, on some layers more).
    await config.update('evaluation.minSqnr', 15, vscode.ConfigurationTarget.Global);
    await config.update('evaluation.maxDrop', null, vscode.ConfigurationTarget.Global);
    try {
      const model = path.join(dir, 'budget.onnx');
      fs.writeFileSync(model, smallCnn());
      const session = (await editor.open(vscode.Uri.file(model)))!;
      const result = (await vscode.commands.executeCommand('onnxCompress.compressToBudget', 'INT4 blocks of 32', { kind: 'synthetic', samples: 16, seed: 3 })) as {
        plan: { budget: { layers: string[]; pass: boolean; trials: { layers: number; pass: boolean }[] } };
      };
      const plan = result.plan.budget;
      assert.ok(plan.trials.length >= 1);
      assert.ok(plan.layers.length > 0 && plan.pass, JSON.stringify(plan.trials));
      assert.ok(plan.trials.some((t) => t.layers === plan.layers.length && t.pass), 'the plan itself was measured');
      assert.equal(session.document.session.steps.length, 1, 'one edit');
      assert.deepEqual([...(session.document.session.steps[0].layers as string[])].sort(), [...plan.layers].sort());
      const check = session.checks.at(-1);
      assert.ok(check?.verdict?.pass, `the applied model measured again: ${check?.verdict?.line}`);
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    } finally {
      await config.update('evaluation.minSqnr', undefined, vscode.ConfigurationTarget.Global);
      await config.update('evaluation.maxDrop', undefined, vscode.ConfigurationTarget.Global);
    }
  });
});
