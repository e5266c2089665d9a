/* global document, getComputedStyle -- used only inside page.evaluate callbacks, which run in the browser */
// UI tests on the real workbench (code-server + headless Chromium, Playwright), with the
// extension installed from the VSIX we ship (npm run package): open a model,
// see the layer table, select a layer and see its histogram, quantize it from the editor's form,
// see the Compression Report panel follow, see the dirty marker and the edit listed, undo, save,
// switch to a high-contrast theme and see both webviews follow. Screenshots go to
// out/ui-screenshots/. Any Content-Security-Policy violation reported by a webview fails the run.
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { launchWorkbench, quickOpen } from './workbench.mjs';

const root = resolve('.');
const shots = join(root, 'out/ui-screenshots');
mkdirSync(shots, { recursive: true });

const steps = [];
const step = (name) => {
  steps.push(name);
  console.log(`… ${name}`);
};
let workbench;
let failed = false;
try {
  step('the workbench loads');
  workbench = await launchWorkbench({ 'classifier.onnx': join(root, '.cache/models/ch_ppocr_mobile_v2.0_cls_infer.onnx') });
  const { page, editor: frame, report } = workbench;
  const cspViolations = [];
  page.on('console', (m) => {
    if (/Content[- ]Security[- ]Policy/i.test(m.text()) && /onnx|vscode-resource|vscode-cdn|webview/i.test(m.text())) cspViolations.push(m.text());
  });

  step('open the model with Quick Open');
  await quickOpen(page, 'classifier.onnx');
  step('the layer table shows every layer');
  await frame.locator('.rows .row').first().waitFor({ timeout: 60_000 });
  await frame.locator('.summary h1').filter({ hasText: 'classifier.onnx' }).waitFor();
  await frame.locator('.summary .io').filter({ hasText: /Inputs: x \[p2o\.DynamicDimension\.0×3×.*\] FLOAT/ }).waitFor();
  await page.screenshot({ path: join(shots, '1-opened.png') });

  step('select the largest layer: histogram, channel ranges and energy curve; the form previews INT8');
  await frame.locator('.estimates').filter({ hasNotText: 'Analyzing' }).waitFor({ timeout: 60_000 });
  const firstRow = frame.locator('.rows .row').first();
  const layer = await firstRow.getAttribute('data-layer');
  await firstRow.click();
  await frame.locator('.detail canvas').nth(2).waitFor({ timeout: 30_000 });
  for (const heading of ['Histogram of', 'Channel ranges', 'Energy kept by rank']) await frame.locator('.detail h3').filter({ hasText: heading }).waitFor();
  await frame.locator('.rows .row .cell.entropy').filter({ hasText: / b$/ }).first().waitFor();
  await frame.locator('.preview').filter({ hasText: /^Preview: 1 layer, weights .* → .*worst weight SQNR ≈ \d+\.\d dB/ }).waitFor({ timeout: 10_000 });
  // Changing a parameter updates the preview before anything is applied.
  // INT4 defaults to blocks of 32, whose SQNR the analysis's per-channel figure bounds from below.
  await frame.locator('form.action select').nth(2).selectOption('int4');
  await frame.locator('.preview').filter({ hasText: /SQNR ≥ \d+\.\d dB/ }).waitFor();
  const int4Preview = await frame.locator('.preview').textContent();
  await frame.locator('form.action select').nth(2).selectOption('int8');
  await frame.locator('.preview').filter({ hasNotText: int4Preview }).waitFor();
  await page.screenshot({ path: join(shots, '2-layer-selected.png') });

  step('quantize the selected layer from the form: dirty marker, edit listed, row marked');
  await frame.locator('form.action button').filter({ hasText: 'Apply to 1 selected layer' }).click();
  await frame.locator('.edits li').filter({ hasText: 'Quantize' }).waitFor({ timeout: 60_000 });
  await frame.locator(`.rows .row.edited[data-layer="${layer}"]`).waitFor();
  await page.locator('.tab.active.dirty').waitFor({ timeout: 10_000 });
  await frame.locator('.detail h3').filter({ hasText: 'Before and after: Quantize' }).waitFor({ timeout: 30_000 });
  await page.screenshot({ path: join(shots, '3-quantized.png') });

  step('the Compression Report panel shows the edit and the smaller size');
  await page.keyboard.press('F1');
  await page.keyboard.type('Focus on Compression Report View');
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'Compression Report' }).first().click({ timeout: 30_000 });
  await report.locator('table[aria-label="Edits in effect"] td').filter({ hasText: 'Quantize' }).waitFor({ timeout: 60_000 });
  await report.locator('table[aria-label="Size before and after"] tr').filter({ hasText: 'weights' }).waitFor();
  await report.locator('canvas').first().waitFor();
  await page.screenshot({ path: join(shots, '3b-report.png') });

  step('check accuracy from the report panel: synthetic inputs, both models in onnxruntime, the result listed');
  await report.locator('button').filter({ hasText: 'Check accuracy' }).click();
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'Synthetic inputs' }).first().click({ timeout: 30_000 });
  // The classifier's input has symbolic dims: the check asks for a shape (rank and the fixed 3 are checked).
  const shapeBox = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-widget').filter({ hasText: "Shape of input 'x'" }).waitFor({ timeout: 30_000 });
  await shapeBox.fill('1x3x48x192');
  await page.keyboard.press('Enter');
  await report.locator('table[aria-label="Accuracy checks"] td').filter({ hasText: 'fidelity only' }).waitFor({ timeout: 120_000 });
  await report.locator('table[aria-label="Accuracy checks"] td').filter({ hasText: / dB$/ }).first().waitFor();
  await page.screenshot({ path: join(shots, '3c-accuracy.png') });

  step('undo: the edit is gone and the editor is clean');
  await page.locator('.tab.active').click();
  await page.keyboard.press('Control+Z');
  await frame.locator('.edits p.hint').waitFor({ timeout: 30_000 });
  await page.locator('.tab.active:not(.dirty)').waitFor({ timeout: 10_000 });
  await report.locator('p.muted').filter({ hasText: 'No edits yet' }).waitFor({ timeout: 30_000 });
  await page.screenshot({ path: join(shots, '4-undone.png') });

  step('redo and save: the tab is clean, the edit stays listed as saved, the report compares since opened and since last save');
  await page.locator('.tab.active').click();
  await page.keyboard.press('Control+Shift+Z');
  await page.locator('.tab.active.dirty').waitFor({ timeout: 30_000 });
  await page.keyboard.press('Control+S');
  await page.locator('.tab.active:not(.dirty)').waitFor({ timeout: 30_000 });
  await frame.locator('.edits p.hint').filter({ hasText: 'All edits are saved.' }).waitFor({ timeout: 30_000 });
  await report.locator('li').filter({ hasText: /^since last save: / }).waitFor({ timeout: 30_000 });
  await report.locator('li').filter({ hasText: /^since opened: / }).waitFor();
  await page.screenshot({ path: join(shots, '5-saved.png') });

  step('switch to the Dark High Contrast theme: the editor and the report follow, the selected row is outlined');
  await page.locator('.tab.active').click();
  await frame.locator('.rows .row').first().click();
  await frame.locator('.detail canvas').first().waitFor({ timeout: 30_000 });
  // Mark the charts drawn in the old theme: they must be drawn again in the new theme's colours.
  await frame.locator('.detail canvas').first().evaluate((c) => c.setAttribute('data-old-theme', ''));
  await report.locator('canvas').first().evaluate((c) => c.setAttribute('data-old-theme', ''));
  await page.keyboard.press('F1');
  await page.keyboard.type('Preferences: Color Theme');
  // Exactly this command: others ("Browse Color Themes in Marketplace") would need the network.
  await page.locator('.quick-input-list .monaco-list-row').filter({ has: page.locator('.label-name', { hasText: /^Preferences: Color Theme$/ }) }).first().click({ timeout: 30_000 });
  await page.keyboard.type('Dark High Contrast');
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'Dark High Contrast' }).first().waitFor({ timeout: 30_000 });
  await page.keyboard.press('Enter');
  await frame.locator('body[data-vscode-theme-kind="vscode-high-contrast"]').waitFor({ timeout: 30_000 });
  await frame.locator('.detail canvas:not([data-old-theme])').first().waitFor({ timeout: 30_000 });
  await report.locator('canvas:not([data-old-theme])').first().waitFor({ timeout: 30_000 });
  const outline = await frame.locator('.rows .row[aria-selected="true"]').first().evaluate((r) => {
    const style = getComputedStyle(r);
    const probe = document.createElement('span');
    probe.style.color = getComputedStyle(document.body).getPropertyValue('--vscode-contrastActiveBorder').trim();
    document.body.append(probe);
    const border = probe.style.color ? getComputedStyle(probe).color : '';
    probe.remove();
    return { style: style.outlineStyle, width: style.outlineWidth, color: style.outlineColor, border };
  });
  if (outline.style !== 'solid' || outline.width === '0px' || !outline.border || outline.color !== outline.border) throw new Error(`selected row not outlined in high contrast: ${JSON.stringify(outline)}`);
  await page.screenshot({ path: join(shots, '6-high-contrast.png') });

  step('a keybinding of this editor (Ctrl+Alt+P) offers pruning presets for the selected layer');
  await frame.locator('.rows .row').first().click();
  await page.keyboard.press('Control+Alt+P');
  await page.locator('.quick-input-widget').filter({ hasText: 'Prune 1 layer(s)' }).waitFor({ timeout: 30_000 });
  await page.keyboard.press('Escape');
  await page.locator('.tab.active:not(.dirty)').waitFor({ timeout: 10_000 });

  step('no Content-Security-Policy violations');
  if (cspViolations.length) throw new Error(`CSP violations:\n${cspViolations.join('\n')}`);
  console.log(`UI tests in VS Code (code-server): ${steps.length} steps passed; screenshots in out/ui-screenshots/`);
} catch (e) {
  failed = true;
  console.error(`UI test failed at "${steps.at(-1)}": ${e?.stack ?? e}`);
  try {
    await workbench?.page.screenshot({ path: join(shots, 'failure.png') });
  } catch {
    // no page to capture
  }
} finally {
  await workbench?.close();
}
process.exit(failed ? 1 : 0);
