/**
 * The Compression Report view: sizes before/after (chart and table), the edits and what they did
 * to each tensor, accuracy checks, and the size/accuracy trade-off. Holds nothing: it shows the
 * last report the host sent, and asks the host to export or to run a check.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, PointElement, ScatterController, Tooltip } from 'chart.js';
import { el, onThemeChange, themeColor } from '../dom';
import type { CompressionReport } from '../../report/compressionReport';
import { db, pct, sizeRows } from '../../report/reportRows';
import { byteAxisUnit, humanBytes, plural, splitVerdict } from '../../shared/format';
import { baselineLines, baselineNote } from '../../report/baselines';
import type { FromReport, ReportFormat, ToReport } from '../../shared/protocol';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip, ScatterController, PointElement, LineController, LineElement);

declare function acquireVsCodeApi(): { postMessage(m: FromReport): void };
const vscode = acquireVsCodeApi();

const MAX_TENSOR_ROWS = 500;
const charts: Chart[] = [];
let busy: string | null = null;
let current: CompressionReport | null = null;

function table(header: string[], rows: string[][], numeric: ReadonlySet<number>, label: string): HTMLTableElement {
  const cell = (tag: 'td' | 'th', text: string, c: number): HTMLElement => el(tag, numeric.has(c) ? { class: 'num' } : {}, text);
  return el(
    'table',
    { 'aria-label': label },
    el('thead', {}, el('tr', {}, ...header.map((h, c) => cell('th', h, c)))),
    el('tbody', {}, ...rows.map((r) => el('tr', {}, ...r.map((v, c) => cell('td', v, c))))),
  );
}

function button(text: string, message: FromReport, primary = false): HTMLButtonElement {
  const b = el('button', primary ? { class: 'primary' } : {}, text);
  b.disabled = busy !== null;
  b.addEventListener('click', () => vscode.postMessage(message));
  return b;
}


function render(): void {
  for (const c of charts.splice(0)) c.destroy();
  const app = document.getElementById('app')!;
  app.replaceChildren();
  const r = current;
  app.append(el('div', { class: 'status', role: 'status', 'aria-live': 'polite' }, busy ?? (r ? `${r.model}: ${plural(r.edits.length, 'edit')} since opened` : 'Open an .onnx file in the ONNX Compress editor to see its report.')));
  if (!r) return;
  const latest = r.accuracy.at(-1);
  // The verdict first, above everything that scrolls: what the last check says about the edits.
  if (latest?.verdict) {
    const v = latest.verdict;
    const { word, rest } = splitVerdict(v.line); // NO VERDICT is neither a pass nor a miss: its own word
    app.append(el('div', { class: `verdict ${v.pass ? 'pass' : 'fail'}`, role: 'status', 'aria-label': 'Verdict of the last accuracy check' }, el('strong', {}, word || (v.pass ? 'PASS' : 'FAIL')), ` ${rest}`));
  }
  const formats: [string, ReportFormat][] = [['Markdown', 'markdown'], ['HTML', 'html'], ['JSON', 'json']];
  app.append(el('div', { class: 'toolbar' }, button('Check accuracy…', { type: 'checkAccuracy' }, true), ...formats.map(([name, format]) => button(`Export ${name}`, { type: 'export', format }))));

  const baselines = el('ul', { class: 'baselines', 'aria-label': 'Compared with' }, ...baselineLines(r).map((l) => el('li', {}, l)));
  const sizes = el('section', { 'aria-label': 'Size before and after' }, el('h2', {}, 'Size'), el('p', { class: 'muted' }, baselineNote(r)), baselines, table(['measure', 'before', 'after', 'ratio'], sizeRows(r), new Set([1, 2, 3]), 'Size before and after'));
  const sizeCanvas = el('canvas', { role: 'img', 'aria-label': 'Bar chart of sizes before and after' });
  const tradeCanvas = el('canvas', { role: 'img', 'aria-label': 'Per-tensor bytes saved against weight SQNR' });
  app.append(el('div', { class: 'columns' }, sizes, el('div', { class: 'chart' }, sizeCanvas), el('div', { class: 'chart' }, tradeCanvas)));

  const fg = themeColor('--vscode-foreground', '#888');
  const before = themeColor('--vscode-charts-foreground', fg);
  const after = themeColor('--vscode-charts-green', '#3a3');
  const scales = { x: { ticks: { color: fg } }, y: { ticks: { color: fg } } };
  // The axis counts in one unit (the largest bar's), so Chart.js puts its ticks at round values of it.
  const bars = { before: [r.before.bytes, r.before.weightBytes, r.before.gzipBytes, r.before.entropyBytes], after: [r.after.bytes, r.after.weightBytes, r.after.gzipBytes, r.after.entropyBytes] };
  const unit = byteAxisUnit(Math.max(...bars.before, ...bars.after));
  const inUnit = (bytes: number[]): number[] => bytes.map((b) => b / unit.bytes);
  charts.push(
    new Chart(sizeCanvas, {
      type: 'bar',
      data: {
        labels: ['file', 'weights', 'gzip', 'entropy'],
        datasets: [
          { label: 'before', data: inUnit(bars.before), backgroundColor: before },
          { label: 'after', data: inUnit(bars.after), backgroundColor: after },
        ],
      },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { labels: { color: fg } }, tooltip: { callbacks: { label: (c) => `${c.dataset.label}: ${humanBytes((c.parsed.y ?? 0) * unit.bytes)}` } } },
        scales: { x: scales.x, y: { title: { display: true, text: unit.name, color: fg }, ticks: { color: fg } } },
      },
    }),
  );
  // The trade-off per tensor: what each change saved against the error it cost.
  const points = r.edits.flatMap((e) => e.changes.filter((c) => c.sqnrDb !== null && Number.isFinite(c.sqnrDb)).map((c) => ({ x: (c.bytesBefore - c.bytesAfter) / 1024, y: c.sqnrDb as number, label: `${c.layer} (${e.label})` })));
  charts.push(
    new Chart(tradeCanvas, {
      type: 'scatter',
      data: { datasets: [{ label: 'tensors: KiB saved vs weight SQNR (dB)', data: points, backgroundColor: themeColor('--vscode-charts-blue', '#38c') }] },
      options: {
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { labels: { color: fg } }, tooltip: { callbacks: { label: (c) => `${(c.raw as { label: string }).label}: ${c.parsed.x?.toFixed(1)} KiB, ${c.parsed.y?.toFixed(1)} dB` } } },
        scales,
      },
    }),
  );

  app.append(el('h2', {}, 'Edits'));
  app.append(
    r.edits.length
      ? table(['edit', 'weights before', 'after', 'worst SQNR', 'skipped'], r.edits.map((e) => [e.label, humanBytes(e.bytesBefore), humanBytes(e.bytesAfter), db(e.worstSqnrDb), String(e.skipped)]), new Set([1, 2, 3, 4]), 'Edits in effect')
      : el('p', { class: 'muted' }, 'No edits yet: apply one from the editor.'),
  );
  const changes = r.edits.flatMap((e) => e.changes.map((c) => ({ e, c })));
  if (changes.length) {
    app.append(el('h2', {}, `Per-tensor error (${changes.length})`));
    const shown = changes.slice(0, MAX_TENSOR_ROWS);
    const rows = shown.map(({ e, c }) => [c.layer, c.opType, c.tensor, humanBytes(c.bytesBefore), humanBytes(c.bytesAfter), db(c.sqnrDb), c.maxError === null ? '—' : c.maxError.toPrecision(3), e.label]);
    app.append(el('div', { class: 'scroll', tabindex: '0' }, table(['layer', 'op', 'tensor', 'before', 'after', 'SQNR', 'max error', 'edit'], rows, new Set([3, 4, 5, 6]), 'Per-tensor error')));
    if (changes.length > shown.length) app.append(el('p', { class: 'muted' }, `${changes.length - shown.length} more rows in the exported report.`));
  }
  app.append(el('h2', {}, 'Accuracy checks'));
  app.append(
    r.accuracy.length
      ? table(
          ['data', 'samples', 'top-1 before → after', 'agreement', 'output SQNR', 'latency before → after', 'size'],
          r.accuracy.map((a) => [
            a.dataset,
            String(a.samples),
            a.synthetic ? 'fidelity only' : `${pct(a.baselineAccuracy)} → ${pct(a.candidateAccuracy)}`,
            pct(a.agreement),
            db(a.outputSqnrDb),
            `${a.baselineLatencyMs?.toFixed(2) ?? '—'} → ${a.candidateLatencyMs?.toFixed(2) ?? '—'} ms`,
            humanBytes(a.candidateBytes),
          ]),
          new Set([1, 3, 4, 6]),
          'Accuracy checks',
        )
      : el('p', { class: 'muted' }, 'None yet. "Check accuracy…" runs the edited model and the file on disk side by side in onnxruntime.'),
  );
  if (latest?.outputs?.length || latest?.speed) {
    app.append(el('ul', { class: 'outputs', 'aria-label': 'Metrics of the last check, per output' }, ...(latest.outputs ?? []).map((o) => el('li', {}, o)), ...(latest.speed ? [el('li', {}, latest.speed)] : [])));
  }
}

window.addEventListener('message', (event: MessageEvent<ToReport>) => {
  const m = event.data;
  if (m.type === 'report') current = m.report;
  else busy = m.label;
  render();
});
render();
onThemeChange(render);
vscode.postMessage({ type: 'ready' });
