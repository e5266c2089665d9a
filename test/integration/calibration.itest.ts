/**
 * Calibration data of its own in real VS Code: chosen by command (the form's Choose… runs it),
 * refused at once when it does not fit the model, used by the next static quantization (the
 * edit says what it calibrated on), and given up again for the accuracy checks' data.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { suite, test, suiteSetup } from 'mocha';
import type { OnnxEditorProvider } from '../../src/host/onnxEditorProvider';
import { CNN_INPUT, smallCnn } from '../helpers/smallModels';
import { npyBytes, zipBytes } from '../helpers/zipWrite';
import { until } from './until';

let editor: OnnxEditorProvider;
let dir: string;

/** An .npz of `count` random samples for input `name` of the test CNN. */
function npz(file: string, name: string, count: number): string {
  const [, ...sample] = CNN_INPUT.dims;
  const values = Float32Array.from({ length: count * sample.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37));
  fs.writeFileSync(file, zipBytes([{ name: `${name}.npy`, data: npyBytes(values, [count, ...sample]) }]));
  return file;
}

suite('Calibration data', () => {
  suiteSetup(async () => {
    const extension = vscode.extensions.all.find((e) => e.packageJSON.name === 'onnx-compress')!;
    ({ editor } = (await extension.activate()) as { editor: OnnxEditorProvider });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-calibration-'));
  });

  test('chosen data is checked, used by static quantization and named in the edit; the checks’ data comes back', async () => {
    const model = path.join(dir, 'calibrated.onnx');
    fs.writeFileSync(model, smallCnn());
    const session = (await editor.open(vscode.Uri.file(model)))!;
    const wrong = npz(path.join(dir, 'wrong.npz'), 'not_an_input', 4);
    assert.equal(await vscode.commands.executeCommand('onnxCompress.chooseCalibrationData', vscode.Uri.file(wrong)), undefined, 'data naming no model input is refused');
    const good = npz(path.join(dir, 'calib.npz'), CNN_INPUT.name, 6);
    const chosen = await vscode.commands.executeCommand('onnxCompress.chooseCalibrationData', vscode.Uri.file(good));
    assert.deepEqual(chosen, { kind: 'numpy', path: good });
    assert.ok(await session.applyStep({ transform: 'quantize', mode: 'static', bits: 8, layers: '*' }), 'static quantization applied');
    const notes = session.document.edits.at(-1)?.notes ?? [];
    assert.ok(notes.some((n) => n.includes('calib.npz')), `the edit says what it calibrated on: ${JSON.stringify(notes)}`);
    assert.equal(await vscode.commands.executeCommand('onnxCompress.chooseCalibrationData', 'checks'), 'checks');
    await until('the dirty marker', () => vscode.window.tabGroups.activeTabGroup.activeTab?.isDirty);
    await vscode.commands.executeCommand('undo');
    await until('undo', () => session.document.edits.length === 0);
    assert.ok(await session.applyStep({ transform: 'quantize', mode: 'static', bits: 8, layers: '*' }));
    const again = session.document.edits.at(-1)?.notes ?? [];
    assert.ok(again.some((n) => n.includes('random inputs')) && !again.some((n) => n.includes('calib.npz')), `back to the checks' data (none: random inputs): ${JSON.stringify(again)}`);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  });
});
