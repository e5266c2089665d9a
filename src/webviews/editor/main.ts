/**
 * The model editor's webview: summary, a virtualized and sortable layer table, the selected
 * layer's details with its weight histogram (chart.js), the edits in effect, and a form that asks
 * the host to apply a transform to the selection or the whole model. It keeps only view state;
 * the host replays the model whenever the view (re)loads.
 */
import { BarController, BarElement, CategoryScale, Chart, LinearScale, LogarithmicScale, Tooltip } from 'chart.js';
import type { AnalyzedLayer, ModelAnalysis } from '../../analyzers/modelAnalysis';
import type { LayerSummary, ModelSummary } from '../../analyzers/modelSummary';
import type { EditView, FromWebview, ToWebview, ValueView } from '../protocol';
import { humanBytes } from '../../report/format';
import { PRESETS, presetsFor } from '../presets';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LogarithmicScale, Tooltip);

declare function acquireVsCodeApi(): { postMessage(m: FromWebview): void };
const vscode = acquireVsCodeApi();

type Row = LayerSummary & Partial<Pick<AnalyzedLayer, 'macs' | 'share' | 'redundancy'>> & { analyzed?: AnalyzedLayer };

const ROW_HEIGHT = 24;
const view = {
  summary: undefined as ModelSummary | undefined,
  inputs: [] as readonly ValueView[],
  outputs: [] as readonly ValueView[],
  analysis: undefined as ModelAnalysis | undefined,
  edits: [] as readonly EditView[],
  rows: [] as Row[],
  shown: [] as Row[],
  selected: new Set<string>(),
  focus: 0,
  sort: { key: 'bytes' as keyof typeof COLUMNS, descending: true },
  filter: '',
  chart: undefined as Chart | undefined,
  logScale: false,
};

const fmtBytes = humanBytes;
const fmtCount = (n: number | null | undefined): string =>
  n === null || n === undefined ? '—' : n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n);
const fmtDb = (v: number | string | null | undefined): string => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : `${v.toFixed(1)} dB`);

const COLUMNS = {
  name: { title: 'Layer', value: (r: Row) => r.name, text: (r: Row) => r.name },
  opType: { title: 'Op', value: (r: Row) => r.opType, text: (r: Row) => r.opType },
  shapes: { title: 'Weights', value: (r: Row) => r.weights.length, text: (r: Row) => r.weights.map((w) => `[${w.shape.join('×')}] ${w.dataType}`).join(', ') },
  params: { title: 'Params', value: (r: Row) => r.params, text: (r: Row) => fmtCount(r.params) },
  bytes: { title: 'Bytes', value: (r: Row) => r.bytes, text: (r: Row) => fmtBytes(r.bytes) },
  share: { title: 'Share', value: (r: Row) => r.share ?? 0, text: (r: Row) => (r.share === undefined ? '' : `${(r.share * 100).toFixed(1)}%`) },
  macs: { title: 'MACs', value: (r: Row) => r.macs ?? -1, text: (r: Row) => fmtCount(r.macs) },
  sparsity: {
    title: 'Zeros',
    value: (r: Row) => r.analyzed?.weights[0]?.stats?.zeroFraction ?? -1,
    text: (r: Row) => {
      const z = r.analyzed?.weights[0]?.stats?.zeroFraction;
      return z === undefined ? '' : `${(z * 100).toFixed(1)}%`;
    },
  },
  rank90: { title: 'Rank 90%', value: (r: Row) => r.redundancy?.rank90 ?? -1, text: (r: Row) => (r.redundancy?.rank90 ?? '—').toString() },
  int8: { title: 'INT8', value: (r: Row) => num(r.redundancy?.int8SqnrDb), text: (r: Row) => fmtDb(r.redundancy?.int8SqnrDb) },
  int4: { title: 'INT4', value: (r: Row) => num(r.redundancy?.int4SqnrDb), text: (r: Row) => fmtDb(r.redundancy?.int4SqnrDb) },
  cluster16: { title: 'k=16', value: (r: Row) => num(r.redundancy?.cluster16SqnrDb), text: (r: Row) => fmtDb(r.redundancy?.cluster16SqnrDb) },
};

function num(v: number | string | null | undefined): number {
  return typeof v === 'number' ? v : v === 'Infinity' ? Infinity : -Infinity;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- layout -------------------------------------------------------------------------------

const app = document.getElementById('app')!;
const header = el('header', { class: 'summary', 'aria-live': 'polite' });
const status = el('div', { class: 'status', role: 'status' });
const toolbar = el('div', { class: 'toolbar' });
const filterBox = el('input', { type: 'search', placeholder: 'Filter layers by name or op', 'aria-label': 'Filter layers' });
const form = el('form', { class: 'action', 'aria-label': 'Compress' });
const transform = el('select', { 'aria-label': 'Transform' });
const preset = el('select', { 'aria-label': 'Setting' });
const applyButton = el('button', { type: 'submit' }, 'Apply to all layers');
const table = el('div', { class: 'table', role: 'grid', tabindex: '0', 'aria-label': 'Layers', 'aria-multiselectable': 'true' });
const head = el('div', { class: 'row head', role: 'row' });
const viewport = el('div', { class: 'viewport' });
const spacer = el('div', { class: 'spacer' });
const rowsBox = el('div', { class: 'rows' });
const detail = el('section', { class: 'detail', 'aria-label': 'Selected layer' });
const editsBox = el('section', { class: 'edits', 'aria-label': 'Edits' });


for (const t of Object.keys(PRESETS)) transform.append(el('option', { value: t }, t[0].toUpperCase() + t.slice(1)));
function fillPresets(): void {
  preset.replaceChildren(...presetsFor(transform.value).map((p, i) => el('option', { value: String(i) }, p.label)));
}
fillPresets();
transform.addEventListener('change', fillPresets);
form.append(transform, preset, applyButton);
form.addEventListener('submit', (e) => {
  e.preventDefault();
  const chosen = presetsFor(transform.value)[Number(preset.value)];
  const layers = view.selected.size ? [...view.selected] : '*';
  vscode.postMessage({ type: 'apply', step: { ...chosen.step, layers } });
});
toolbar.append(filterBox, form);

for (const [key, c] of Object.entries(COLUMNS)) {
  const cell = el('div', { class: `cell ${key}`, role: 'columnheader', tabindex: '0', 'aria-sort': 'none' }, c.title);
  const sortBy = (): void => {
    const k = key as keyof typeof COLUMNS;
    view.sort = { key: k, descending: view.sort.key === k ? !view.sort.descending : k !== 'name' && k !== 'opType' };
    render();
  };
  cell.addEventListener('click', sortBy);
  cell.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), sortBy()));
  head.append(cell);
}
viewport.append(spacer, rowsBox);
table.append(head, viewport);
app.append(header, status, toolbar, table, detail, editsBox);

// ---- rendering ----------------------------------------------------------------------------

function renderSummary(): void {
  const s = view.summary;
  if (!s) return;
  const m = s.model;
  const est = view.analysis?.estimates;
  header.replaceChildren(
    el('h1', {}, m.file),
    el(
      'p',
      {},
      `${fmtBytes(m.fileBytes)} · IR ${m.irVersion ?? '?'} · opsets ${Object.entries(m.opsets).map(([d, v]) => `${d} ${v}`).join(', ')} · ${m.producer || 'unknown producer'} · ` +
        `${fmtCount(m.parameterCount)} parameters · weights ${fmtBytes(m.weightBytes)} (${Object.entries(s.breakdown.byDataType).map(([t, v]) => `${t} ${fmtBytes(v.bytes)}`).join(', ')})`,
    ),
    el('p', { class: 'io' }, `Inputs: ${values(view.inputs)} · Outputs: ${values(view.outputs)}`),
    el(
      'p',
      { class: 'estimates' },
      est
        ? `Estimated weights: FP16 ${fmtBytes(est.float16Bytes)} · INT8 ${fmtBytes(est.int8PerChannelBytes)} · INT4 ${fmtBytes(est.int4PerChannelBytes)} · 16 clusters ${fmtBytes(est.cluster16Bytes)}` +
            `${est.huffmanInt8Bytes !== null ? ` · INT8 + Huffman ${fmtBytes(est.huffmanInt8Bytes)}` : ''}${view.analysis?.macs.total ? ` · ${fmtCount(view.analysis.macs.total)} MACs` : ''}`
        : 'Analyzing…',
    ),
  );
}

function values(list: readonly ValueView[]): string {
  return list.map((v) => `${v.name} [${v.shape.join('×')}] ${v.dataType}`).join(', ') || '—';
}

function buildRows(): void {
  const analyzed = new Map((view.analysis?.layers ?? []).map((l) => [`${l.graph}\u0000${l.name}`, l]));
  view.rows = (view.summary?.layers ?? []).map((l) => {
    const a = analyzed.get(`${l.graph}\u0000${l.name}`);
    const name = l.graph === 'main' ? l.name : `${l.graph}/${l.name}`;
    return { ...l, name, macs: a?.macs, share: a?.share, redundancy: a?.redundancy, analyzed: a };
  });
}

function render(): void {
  const f = view.filter.toLowerCase();
  const col = COLUMNS[view.sort.key];
  const shown = view.rows.filter((r) => !f || r.name.toLowerCase().includes(f) || r.opType.toLowerCase().includes(f));
  shown.sort((a, b) => {
    const x = col.value(a);
    const y = col.value(b);
    const c = typeof x === 'string' || typeof y === 'string' ? String(x).localeCompare(String(y)) : x - y;
    return view.sort.descending ? -c : c;
  });
  view.shown = shown;
  view.focus = Math.min(view.focus, Math.max(0, shown.length - 1));
  for (const cell of head.children) cell.setAttribute('aria-sort', cell.classList.contains(view.sort.key) ? (view.sort.descending ? 'descending' : 'ascending') : 'none');
  spacer.style.height = `${shown.length * ROW_HEIGHT}px`;
  applyButton.textContent = view.selected.size ? `Apply to ${view.selected.size} selected layer${view.selected.size > 1 ? 's' : ''}` : 'Apply to all layers';
  renderVisible();
}

/** Only the rows in view are in the DOM: 10,000 layers scroll like 10. */
function renderVisible(): void {
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - 5);
  const count = Math.ceil(viewport.clientHeight / ROW_HEIGHT) + 10;
  const edited = new Set(view.edits.flatMap((e) => e.layers));
  rowsBox.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
  rowsBox.replaceChildren(
    ...view.shown.slice(first, first + count).map((r, k) => {
      const i = first + k;
      const row = el('div', { class: 'row', role: 'row', 'aria-rowindex': String(i + 2), 'aria-selected': String(view.selected.has(r.name)), 'data-layer': r.name });
      if (i === view.focus) row.classList.add('focus');
      if (edited.has(r.name)) row.classList.add('edited');
      for (const [key, c] of Object.entries(COLUMNS)) {
        const cell = el('div', { class: `cell ${key}`, role: 'gridcell' }, c.text(r));
        if (key === 'share' && r.share !== undefined) {
          const bar = el('span', { class: 'bar' });
          bar.style.width = `${Math.min(100, r.share * 100)}%`;
          cell.prepend(bar);
        }
        if (key === 'name' && edited.has(r.name)) cell.title = `changed by: ${view.edits.filter((e) => e.layers.includes(r.name)).map((e) => e.label).join('; ')}`;
        row.append(cell);
      }
      row.addEventListener('click', (e) => select(i, e.ctrlKey || e.metaKey, e.shiftKey));
      return row;
    }),
  );
}

let anchor = 0;
function select(i: number, toggle: boolean, range: boolean): void {
  const r = view.shown[i];
  if (!r) return;
  if (range) {
    const [a, b] = [Math.min(anchor, i), Math.max(anchor, i)];
    if (!toggle) view.selected.clear();
    for (let k = a; k <= b; k++) view.selected.add(view.shown[k].name);
  } else if (toggle) {
    if (view.selected.has(r.name)) view.selected.delete(r.name);
    else view.selected.add(r.name);
    anchor = i;
  } else {
    view.selected = new Set([r.name]);
    anchor = i;
  }
  view.focus = i;
  vscode.postMessage({ type: 'selection', layers: [...view.selected] });
  render();
  renderDetail(r);
}

table.addEventListener('keydown', (e) => {
  const page = Math.max(1, Math.floor(viewport.clientHeight / ROW_HEIGHT));
  const moves: Record<string, number> = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page, Home: -Infinity, End: Infinity };
  if (e.key in moves) {
    e.preventDefault();
    const next = Math.max(0, Math.min(view.shown.length - 1, view.focus + moves[e.key]));
    if (e.shiftKey) select(next, false, true);
    else {
      view.focus = next;
      render();
    }
    const top = view.focus * ROW_HEIGHT;
    if (top < viewport.scrollTop) viewport.scrollTop = top;
    else if (top + ROW_HEIGHT > viewport.scrollTop + viewport.clientHeight) viewport.scrollTop = top + ROW_HEIGHT - viewport.clientHeight;
  } else if (e.key === ' ' || e.key === 'Enter') {
    e.preventDefault();
    select(view.focus, e.key === ' ', false);
  }
});
viewport.addEventListener('scroll', () => renderVisible());
filterBox.addEventListener('input', () => {
  view.filter = filterBox.value;
  render();
});

function renderDetail(r: Row | undefined): void {
  view.chart?.destroy();
  view.chart = undefined;
  if (!r) {
    detail.replaceChildren(el('p', { class: 'hint' }, 'Select a layer to see its weights.'));
    return;
  }
  const w = r.analyzed?.weights.find((x) => x.stats) ?? r.analyzed?.weights[0];
  const stats = w?.stats;
  const red = r.redundancy;
  const facts: [string, string][] = [
    ['Op', `${r.opType}${r.domain ? ` (${r.domain})` : ''} in ${r.graph}`],
    ['Weights', r.weights.map((x) => `${x.name} [${x.shape.join('×')}] ${x.dataType} ${fmtBytes(x.bytes)}`).join('; ')],
  ];
  if (stats) {
    facts.push(['Range', `${stats.min.toPrecision(4)} … ${stats.max.toPrecision(4)}, mean ${stats.mean.toPrecision(4)}, std ${stats.std.toPrecision(4)}`]);
    facts.push(['Zeros', `${(stats.zeroFraction * 100).toFixed(2)}% exact, ${(stats.nearZeroFraction * 100).toFixed(2)}% near zero`]);
  }
  if (red) {
    facts.push(['Low rank', `rank ${red.rank90 ?? '—'} keeps 90% of the energy (${red.rank90Params ?? '—'} params)`]);
    facts.push(['Quantization', `INT8 ${fmtDb(red.int8SqnrDb)}, INT4 ${fmtDb(red.int4SqnrDb)}`]);
    facts.push(['Clustering', `k=4 ${fmtDb(red.cluster4SqnrDb)}, k=16 ${fmtDb(red.cluster16SqnrDb)}, k=256 ${fmtDb(red.cluster256SqnrDb)}`]);
  }
  const dl = el('dl');
  for (const [k, v] of facts) dl.append(el('dt', {}, k), el('dd', {}, v));
  const toggle = el('button', { type: 'button', 'aria-pressed': String(view.logScale) }, view.logScale ? 'Linear scale' : 'Log scale');
  toggle.addEventListener('click', () => {
    view.logScale = !view.logScale;
    renderDetail(r);
  });
  const canvas = el('canvas', { role: 'img', 'aria-label': `Histogram of ${w?.name ?? 'the weights'}` });
  detail.replaceChildren(el('h2', {}, r.name), dl, ...(stats ? [toggle, el('div', { class: 'chart' }, undefined)] : [el('p', { class: 'hint' }, 'Statistics appear when the analysis reaches this layer.')]));
  if (!stats) return;
  detail.querySelector('.chart')!.append(canvas);
  const h = stats.histogram;
  const width = (h.max - h.min) / h.counts.length;
  const styles = getComputedStyle(document.body);
  const colour = styles.getPropertyValue('--vscode-charts-blue').trim() || styles.getPropertyValue('--vscode-focusBorder').trim();
  const text = styles.getPropertyValue('--vscode-foreground').trim();
  view.chart = new Chart(canvas, {
    type: 'bar',
    data: {
      labels: h.counts.map((_, i) => (h.min + (i + 0.5) * width).toPrecision(3)),
      datasets: [{ label: w!.name, data: h.counts.map((c) => (view.logScale ? c + 1 : c)), backgroundColor: colour, barPercentage: 1, categoryPercentage: 1 }],
    },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      scales: { x: { ticks: { color: text, maxTicksLimit: 8 } }, y: { type: view.logScale ? 'logarithmic' : 'linear', ticks: { color: text } } },
      plugins: { tooltip: { enabled: true } },
    },
  });
}

function renderEdits(): void {
  if (view.edits.length === 0) {
    editsBox.replaceChildren(el('h2', {}, 'Edits'), el('p', { class: 'hint' }, 'No edits yet: choose a transform above.'));
    return;
  }
  const list = el('ol');
  for (const e of view.edits) {
    list.append(
      el(
        'li',
        {},
        `${e.label}: ${e.layers.length} layer(s), weights ${fmtBytes(e.bytesBefore)} → ${fmtBytes(e.bytesAfter)}` +
          `${e.worstSqnrDb !== null ? `, worst weight SQNR ${e.worstSqnrDb.toFixed(1)} dB` : ''}${e.skipped ? `, ${e.skipped} skipped` : ''}`,
      ),
    );
  }
  editsBox.replaceChildren(el('h2', {}, 'Edits'), list);
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'model':
      view.summary = m.summary;
      view.inputs = m.inputs;
      view.outputs = m.outputs;
      view.edits = m.edits;
      buildRows();
      renderSummary();
      render();
      renderEdits();
      renderDetail(view.rows.find((r) => view.selected.has(r.name)));
      return;
    case 'analysis':
      view.analysis = m.analysis;
      status.textContent = '';
      buildRows();
      renderSummary();
      render();
      renderDetail(view.rows.find((r) => view.selected.has(r.name)));
      return;
    case 'progress':
      status.textContent = `${m.message} (${Math.round(m.fraction * 100)}%)`;
      return;
    case 'busy':
      applyButton.disabled = m.label !== null;
      if (m.label) status.textContent = m.label;
      return;
    case 'error':
      status.textContent = m.message;
      status.classList.add('error');
      setTimeout(() => status.classList.remove('error'), 5000);
      return;
  }
});

renderDetail(undefined);
vscode.postMessage({ type: 'ready' });
