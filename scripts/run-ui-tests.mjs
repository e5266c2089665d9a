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
  const modelTab = workbench.tab('classifier.onnx');
  const dirty = (yes) => modelTab.and(page.locator(yes ? '.dirty' : ':not(.dirty)'));
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

  await frame.locator('.estimates').filter({ hasNotText: 'Analyzing' }).waitFor({ timeout: 60_000 });
  step('at the default window size no header and no number in the table is truncated; names have their full name as title');
  // Truncated: the text is wider than its box (scrollWidth > clientWidth), in a header cell, its title or a numeric cell.
  const truncated = await frame.locator('.table').evaluate((t) => {
    const numeric = ['params', 'bytes', 'share', 'macs', 'sparsity', 'int8', 'int4', 'cluster16', 'rank90', 'entropy'];
    const boxes = [...t.querySelectorAll('.row.head .cell, .row.head .cell .title'), ...t.querySelectorAll(numeric.map((c) => `.rows .row .cell.${c}`).join(','))];
    return boxes.filter((b) => b.scrollWidth > b.clientWidth).map((b) => `${b.className}: "${b.textContent}" ${b.scrollWidth} > ${b.clientWidth}`);
  });
  if (truncated.length) throw new Error(`truncated in the table:\n${truncated.join('\n')}`);
  const headers = await frame.locator('.row.head .cell .title').allTextContents();
  for (const h of ['INT8 dB', 'INT4 dB', 'k16 dB', 'rank90', 'H bits']) if (!headers.includes(h)) throw new Error(`no "${h}" column: ${headers.join(', ')}`);
  const untitled = await frame.locator('.rows .row').evaluateAll((rows) => rows.filter((r) => r.querySelector('.cell.name').title.split('\n')[0] !== r.getAttribute('data-layer')).length);
  if (untitled) throw new Error(`${untitled} name cells without the full name as title`);

  step('one click on a redundancy column sorts the most compressible layers first');
  const columnValues = (c) => frame.locator(`.rows .row .cell.${c}`).evaluateAll((cells) => cells.map((x) => x.textContent));
  for (const [c, descending] of [['int8', true], ['int4', true], ['cluster16', true], ['rank90', false], ['entropy', false]]) {
    await frame.locator(`.row.head .cell.${c}`).click();
    await frame.locator(`.row.head .cell.${c}[aria-sort="${descending ? 'descending' : 'ascending'}"]`).waitFor();
    const numbers = (await columnValues(c)).map((v) => (v === 'exact' ? Infinity : v === '-inf' ? -Infinity : parseFloat(v))).filter((v) => !Number.isNaN(v));
    if (numbers.length < 2) throw new Error(`column ${c} has no figures: ${await columnValues(c)}`);
    for (let i = 1; i < numbers.length; i++) if (descending ? numbers[i] > numbers[i - 1] : numbers[i] < numbers[i - 1]) throw new Error(`column ${c} not sorted: ${numbers.join(' ')}`);
  }
  // Back to the default order (largest first): the next steps select the largest layer.
  await frame.locator('.row.head .cell.bytes').click();
  await frame.locator('.row.head .cell.bytes[aria-sort="descending"]').waitFor();

  step('drag a header\'s right edge: the column and its cells widen, the header is not sorted');
  const opHead = frame.locator('.row.head .cell.opType');
  const opBefore = (await opHead.boundingBox()).width;
  // The sorting clicks above may have scrolled the table sideways: bring the edge into view.
  await frame.locator('.table').evaluate((t) => (t.scrollLeft = 0));
  const resizer = frame.locator('.row.head .cell.opType .resizer');
  await resizer.scrollIntoViewIfNeeded();
  const edge = await resizer.boundingBox();
  await page.mouse.move(edge.x + edge.width / 2, edge.y + edge.height / 2);
  await page.mouse.down();
  await page.mouse.move(edge.x + edge.width / 2 + 20, edge.y + edge.height / 2, { steps: 4 });
  await page.mouse.move(edge.x + edge.width / 2 + 40, edge.y + edge.height / 2, { steps: 4 });
  await page.mouse.up();
  const opAfter = (await opHead.boundingBox()).width;
  const cellAfter = (await frame.locator('.rows .row .cell.opType').first().boundingBox()).width;
  if (Math.abs(opAfter - opBefore - 40) > 2 || Math.abs(cellAfter - opAfter) > 1) throw new Error(`resize: header ${opBefore} → ${opAfter}, cell ${cellAfter}`);
  if ((await opHead.getAttribute('aria-sort')) !== 'none') throw new Error('the drag sorted the column');
  // Ctrl+→ and Ctrl+← from the keyboard resize it too (16 px a press).
  await opHead.focus();
  await page.keyboard.press('Control+ArrowRight');
  const opKeyed = (await opHead.boundingBox()).width;
  await page.keyboard.press('Control+ArrowLeft');
  const opBack = (await opHead.boundingBox()).width;
  if (Math.abs(opKeyed - opAfter - 16) > 1 || Math.abs(opBack - opAfter) > 1) throw new Error(`keyboard resize: ${opAfter} → ${opKeyed} → ${opBack}`);
  await frame.locator('.table').evaluate((t) => (t.scrollLeft = 0));

  step('select the largest layer: histogram, channel ranges and energy curve; the form previews INT8; the table does not move');
  // The table's box, and its header cells' boxes from the header's left edge (sideways scrolling aside).
  const layoutOf = () =>
    frame.locator('.table').evaluate((t) => {
      const box = (r, x0 = 0) => [r.x - x0, r.y, r.width, r.height].map(Math.round).join(',');
      const head = t.querySelector('.row.head').getBoundingClientRect();
      return [box(t.getBoundingClientRect()), ...[...t.querySelectorAll('.row.head .cell')].map((c) => box(c.getBoundingClientRect(), head.x))].join(' ');
    });
  const layoutBefore = await layoutOf();
  const firstRow = frame.locator('.rows .row').first();
  const layer = await firstRow.getAttribute('data-layer');
  await firstRow.click();
  await frame.locator('.detail canvas').nth(2).waitFor({ timeout: 30_000 });
  for (const heading of ['Histogram of', 'Channel ranges', 'Energy kept by rank']) await frame.locator('.detail h3').filter({ hasText: heading }).waitFor();
  await frame.locator('.rows .row .cell.entropy').filter({ hasText: /^\d+\.\d\d$/ }).first().waitFor();
  await frame.locator('.preview').filter({ hasText: /^Preview: 1 layer, weights .* → .*worst weight SQNR ≈ \d+\.\d dB/ }).waitFor({ timeout: 10_000 });
  const layoutAfter = await layoutOf();
  if (layoutAfter !== layoutBefore) throw new Error(`the table moved when a row was selected:\n${layoutBefore}\n${layoutAfter}`);
  // Changing a parameter updates the preview before anything is applied.
  // INT4 defaults to blocks of 32, whose SQNR the analysis's per-channel figure bounds from below.
  await frame.locator('form.action select').nth(2).selectOption('int4');
  await frame.locator('.preview').filter({ hasText: /SQNR ≥ \d+\.\d dB/ }).waitFor();
  const int4Preview = await frame.locator('.preview').textContent();
  await frame.locator('form.action select').nth(2).selectOption('int8');
  await frame.locator('.preview').filter({ hasNotText: int4Preview }).waitFor();
  await page.screenshot({ path: join(shots, '2-layer-selected.png') });

  step('collapse the detail pane from the keyboard: the table gets the width; expand it again');
  const tableWidth = async () => (await frame.locator('.table').boundingBox()).width;
  const narrow = await tableWidth();
  await frame.locator('button.detail-toggle[aria-expanded="true"]').focus();
  await page.keyboard.press('Enter');
  await frame.locator('button.detail-toggle[aria-expanded="false"]').waitFor();
  await frame.locator('.detail').waitFor({ state: 'hidden' });
  const wide = await tableWidth();
  if (wide < narrow + 200) throw new Error(`collapsed detail: table ${narrow} → ${wide}`);
  await page.screenshot({ path: join(shots, '2b-detail-collapsed.png') });
  await page.keyboard.press('Enter');
  await frame.locator('button.detail-toggle[aria-expanded="true"]').waitFor();
  await frame.locator('.detail canvas').first().waitFor();
  if (Math.abs((await tableWidth()) - narrow) > 1) throw new Error(`expanded detail: table ${await tableWidth()}, was ${narrow}`);

  step('quantize the selected layer from the form: dirty marker, edit listed, row marked');
  await frame.locator('form.action button').filter({ hasText: 'Apply to 1 selected layer' }).click();
  await frame.locator('.edits li').filter({ hasText: 'Quantize' }).waitFor({ timeout: 60_000 });
  await frame.locator(`.rows .row.edited[data-layer="${layer}"]`).waitFor();
  await dirty(true).waitFor({ timeout: 10_000 });
  await frame.locator('.detail h3').filter({ hasText: 'Before and after: Quantize' }).waitFor({ timeout: 30_000 });
  await page.screenshot({ path: join(shots, '3-quantized.png') });

  step('the editor\'s title button opens the Compression Report beside it: the edit and the smaller size; the table keeps its height');
  // Rows wholly inside the table's box (the table is virtualized: the DOM holds a few more).
  const visibleRows = () => frame.locator('.table').evaluate((t) => {
    const box = t.getBoundingClientRect();
    return [...t.querySelectorAll('.rows .row')].filter((r) => r.getBoundingClientRect().top >= box.top && r.getBoundingClientRect().bottom <= box.bottom).length;
  });
  const rowsBefore = await visibleRows();
  await page.locator('.editor-actions [aria-label="Show Compression Report"]').click();
  await report.locator('table[aria-label="Edits in effect"] td').filter({ hasText: 'Quantize' }).waitFor({ timeout: 60_000 });
  await report.locator('table[aria-label="Size before and after"] tr').filter({ hasText: 'weights' }).waitFor();
  await report.locator('canvas').first().waitFor();
  // Beside, not under: the narrower editor puts the detail under the table, which keeps most of
  // its height (the report in the bottom panel left five rows).
  const rowsBeside = await visibleRows();
  if (rowsBeside < Math.min(rowsBefore, 8)) throw new Error(`with the report open the table shows ${rowsBeside} rows (${rowsBefore} before)`);
  await page.screenshot({ path: join(shots, '3b-report.png') });

  step('check accuracy from the report panel: synthetic inputs, both models in onnxruntime, the result listed, its verdict first; GPTQ in the form names what it calibrates on');
  await report.locator('button').filter({ hasText: 'Check accuracy' }).click();
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'Synthetic inputs' }).first().click({ timeout: 30_000 });
  // The classifier's input has symbolic dims: the check asks for a shape (rank and the fixed 3 are checked).
  const shapeBox = page.locator('.quick-input-widget input');
  await page.locator('.quick-input-widget').filter({ hasText: "Shape of input 'x'" }).waitFor({ timeout: 30_000 });
  await shapeBox.fill('1x3x48x192');
  await page.keyboard.press('Enter');
  await report.locator('table[aria-label="Accuracy checks"] td').filter({ hasText: 'fidelity only' }).waitFor({ timeout: 120_000 });
  await report.locator('table[aria-label="Accuracy checks"] td').filter({ hasText: / dB$/ }).first().waitFor();
  // The verdict of the check (the default budget: 1 point of agreement) opens the panel, visible without scrolling.
  const verdict = report.locator('.verdict');
  await verdict.filter({ hasText: /^(PASS|FAIL) / }).waitFor({ timeout: 30_000 });
  const placement = await verdict.evaluate((v) => ({ first: v.previousElementSibling?.classList.contains('status') ?? false, visible: v.getBoundingClientRect().bottom <= v.ownerDocument.defaultView.innerHeight }));
  if (!placement.first || !placement.visible) throw new Error(`the verdict is not at the top of the report panel: ${JSON.stringify(placement)}`);
  await page.screenshot({ path: join(shots, '3c-accuracy.png') });
  // GPTQ in the form says what it calibrates on: now the accuracy check's synthetic inputs.
  const method = frame.locator('form.action label').filter({ hasText: 'Method' }).locator('select');
  await method.selectOption('gptq');
  await frame.locator('form.action .calibration').filter({ hasText: 'Calibrates on random inputs with the shapes of the last accuracy check' }).waitFor({ timeout: 30_000 });
  // Its Choose… (a button, so the keyboard reaches it) asks for calibration data of its own.
  await frame.locator('form.action .calibration button').filter({ hasText: 'Choose…' }).click();
  await page.locator('.quick-input-widget').filter({ hasText: 'Calibrate GPTQ and static quantization' }).waitFor({ timeout: 30_000 });
  await page.locator('.quick-input-list .monaco-list-row').filter({ hasText: 'NumPy data…' }).first().waitFor({ timeout: 10_000 });
  await page.keyboard.press('Escape');
  await method.selectOption('rtn');
  await frame.locator('form.action .calibration').waitFor({ state: 'detached', timeout: 10_000 });

  step('undo: the edit is gone and the editor is clean');
  await modelTab.click();
  await page.keyboard.press('Control+Z');
  await frame.locator('.edits p.hint').waitFor({ timeout: 30_000 });
  await dirty(false).waitFor({ timeout: 10_000 });
  await report.locator('p.muted').filter({ hasText: 'No edits yet' }).waitFor({ timeout: 30_000 });
  await page.screenshot({ path: join(shots, '4-undone.png') });

  step('redo and save: the tab is clean, the edit stays listed as saved, the report compares since opened and since last save');
  await modelTab.click();
  await page.keyboard.press('Control+Shift+Z');
  await dirty(true).waitFor({ timeout: 30_000 });
  await page.keyboard.press('Control+S');
  await dirty(false).waitFor({ timeout: 30_000 });
  await frame.locator('.edits p.hint').filter({ hasText: 'All edits are saved.' }).waitFor({ timeout: 30_000 });
  await report.locator('li').filter({ hasText: /^since last save: / }).waitFor({ timeout: 30_000 });
  await report.locator('li').filter({ hasText: /^since opened: / }).waitFor();
  await page.screenshot({ path: join(shots, '5-saved.png') });

  step('switch to the Dark High Contrast theme: the editor and the report follow, the selected row is outlined');
  await modelTab.click();
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
  await page.locator('.quick-input-widget').filter({ hasText: 'Prune 1 layer' }).waitFor({ timeout: 30_000 });
  await page.keyboard.press('Escape');
  await dirty(false).waitFor({ timeout: 10_000 });

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
