/**
 * The model editor's webview: summary, a virtualized and sortable layer table that fills in as
 * layers are analyzed, the selected layer's detail (detail.ts), the edits in effect, and the
 * compress form with its preview (stepForm.ts). It keeps only view state; the host replays the
 * model whenever the view (re)loads.
 */
import type { AnalyzedLayer, ModelAnalysis } from '../../analyzers/modelAnalysis';
import type { ModelSummary } from '../../analyzers/modelSummary';
import type { EditView, FromWebview, TableLayer, ToWebview, ValueView } from '../../shared/protocol';
import type { TableWeight } from '../../shared/tableLayer';
import { qualifiedLayerName } from '../../shared/layerName';
import { humanBytes } from '../../shared/format';
import { el, onThemeChange } from '../dom';
import { renderDetail } from './detail';
import { layerKey, type Row } from './row';
import { StepForm } from './stepForm';
import { editsList } from './editsList';

declare function acquireVsCodeApi(): { postMessage(m: FromWebview): void };
const vscode = acquireVsCodeApi();

const ROW_HEIGHT = 24;
const view = {
  summary: undefined as ModelSummary | undefined,
  inputs: [] as readonly ValueView[],
  outputs: [] as readonly ValueView[],
  /** The analysis's totals, once every layer is in. */
  analysis: undefined as Omit<ModelAnalysis, 'layers'> | undefined,
  /** Analyzed layers by key (the table's figures), filled as the host sends them. */
  analyzed: new Map<string, TableLayer>(),
  /** The selected layer in full (histograms, ranges, energy curve), as the host sent it on request. */
  detail: undefined as { index: number; layer: AnalyzedLayer; of: TableLayer } | undefined,
  /** The table layer whose full detail was last asked for (asked once per analysis of it). */
  detailAsked: undefined as TableLayer | undefined,
  version: -1,
  edits: [] as readonly EditView[],
  /** How many of the edits the file on disk holds (null: none of them). */
  savedEdits: 0 as number | null,
  rows: [] as Row[],
  shown: [] as Row[],
  selected: new Set<string>(),
  focus: 0,
  sort: { key: 'bytes' as keyof typeof COLUMNS, descending: true },
  filter: '',
  logScale: false,
  /** The layer whose detail is shown (the last one clicked). */
  detailOf: undefined as string | undefined,
  /** The id of the latest preview asked for: older answers are dropped. */
  previewId: 0,
};

const fmtBytes = humanBytes;
const fmtCount = (n: number | null | undefined): string =>
  n === null || n === undefined ? '—' : n >= 1e9 ? `${(n / 1e9).toFixed(2)}G` : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}K` : String(n);
const fmtDb = (v: number | string | null | undefined): string => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : `${v.toFixed(1)} dB`);

const COLUMNS = {
  name: { title: 'Layer', value: (r: Row) => r.name, text: (r: Row) => r.name },
  opType: { title: 'Op', value: (r: Row) => r.opType, text: (r: Row) => r.opType },
  storedAs: { title: 'Stored as', value: (r: Row) => r.storedAs.label, text: (r: Row) => r.storedAs.label },
  shapes: { title: 'Weights', value: (r: Row) => r.weights.length, text: (r: Row) => r.weights.map((w) => `[${w.shape.join('×')}] ${w.dataType}`).join(', ') },
  params: { title: 'Params', value: (r: Row) => r.params, text: (r: Row) => fmtCount(r.params) },
  bytes: { title: 'Bytes', value: (r: Row) => r.bytes, text: (r: Row) => fmtBytes(r.bytes) },
  share: { title: 'Share', value: (r: Row) => share(r), text: (r: Row) => `${(share(r) * 100).toFixed(1)}%` },
  macs: { title: 'MACs', value: (r: Row) => r.analyzed?.macs ?? -1, text: (r: Row) => fmtCount(r.analyzed?.macs) },
  sparsity: {
    title: 'Zeros',
    value: (r: Row) => mainStats(r)?.zeroFraction ?? -1,
    text: (r: Row) => {
      const z = mainStats(r)?.zeroFraction;
      return z === undefined ? '' : `${(z * 100).toFixed(1)}%`;
    },
  },
  rank90: { title: 'Rank 90%', value: (r: Row) => red(r)?.rank90 ?? -1, text: (r: Row) => (red(r)?.rank90 ?? '—').toString() },
  int8: { title: 'INT8', value: (r: Row) => num(red(r)?.int8SqnrDb), text: (r: Row) => fmtDb(red(r)?.int8SqnrDb) },
  int4: { title: 'INT4', value: (r: Row) => num(red(r)?.int4SqnrDb), text: (r: Row) => fmtDb(red(r)?.int4SqnrDb) },
  cluster16: { title: 'k=16', value: (r: Row) => num(red(r)?.cluster16SqnrDb), text: (r: Row) => fmtDb(red(r)?.cluster16SqnrDb) },
  entropy: {
    title: 'Entropy',
    value: (r: Row) => red(r)?.entropyBitsInt8 ?? -1,
    text: (r: Row) => (red(r) ? `${red(r)!.entropyBitsInt8.toFixed(2)} b` : r.analyzed?.deferred ? 'later' : ''),
  },
};

const red = (r: Row): TableLayer['redundancy'] => r.analyzed?.redundancy;
/** The statistics of the weight the redundancy describes (a clustered layer's indices, not its codebook). */
const mainStats = (r: Row): TableWeight['stats'] => (r.analyzed?.weights.find((w) => w.name === red(r)?.weight) ?? r.analyzed?.weights[0])?.stats;
const share = (r: Row): number => (view.summary?.model.weightBytes ? r.bytes / view.summary.model.weightBytes : 0);

function num(v: number | string | null | undefined): number {
  return typeof v === 'number' ? v : v === 'Infinity' ? Infinity : -Infinity;
}

// ---- layout -------------------------------------------------------------------------------

const app = document.getElementById('app')!;
const header = el('header', { class: 'summary', 'aria-live': 'polite' });
const status = el('div', { class: 'status', role: 'status' });
const toolbar = el('div', { class: 'toolbar' });
const filterBox = el('input', { type: 'search', placeholder: 'Filter layers by name, op or storage', 'aria-label': 'Filter layers' });
const table = el('div', { class: 'table', role: 'grid', tabindex: '0', 'aria-label': 'Layers', 'aria-multiselectable': 'true' });
const head = el('div', { class: 'row head', role: 'row' });
const viewport = el('div', { class: 'viewport' });
const spacer = el('div', { class: 'spacer' });
const rowsBox = el('div', { class: 'rows' });
const detail = el('section', { class: 'detail', 'aria-label': 'Selected layer' });
const editsBox = el('section', { class: 'edits', 'aria-label': 'Edits' });


const form = new StepForm({
  // The host holds the full analysis the estimate reads (histograms, energy curves): it answers.
  requestPreview: (step) => vscode.postMessage({ type: 'preview', id: ++view.previewId, step, layers: view.selected.size ? [...view.selected] : '*' }),
  targetLabel: () => (view.selected.size ? `${view.selected.size} selected layer${view.selected.size > 1 ? 's' : ''}` : 'all layers'),
  apply: (step) => vscode.postMessage({ type: 'apply', step: { ...step, layers: view.selected.size ? [...view.selected] : '*' } }),
});
toolbar.append(filterBox, form.element);

for (const [key, c] of Object.entries(COLUMNS)) {
  const cell = el('div', { class: `cell ${key}`, role: 'columnheader', tabindex: '0', 'aria-sort': 'none' }, c.title);
  const sortBy = (): void => {
    const k = key as keyof typeof COLUMNS;
    view.sort = { key: k, descending: view.sort.key === k ? !view.sort.descending : k !== 'name' && k !== 'opType' && k !== 'storedAs' };
    render();
  };
  cell.addEventListener('click', sortBy);
  cell.addEventListener('keydown', (e) => (e.key === 'Enter' || e.key === ' ') && (e.preventDefault(), sortBy()));
  head.append(cell);
}
viewport.append(spacer, rowsBox);
table.append(head, viewport);
app.append(header, status, toolbar, form.preview, table, detail, editsBox);

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
  view.rows = (view.summary?.layers ?? []).map((l, index) => ({ ...l, index, name: qualifiedLayerName(l), analyzed: view.analyzed.get(layerKey(l)) }));
}

function render(): void {
  const f = view.filter.toLowerCase();
  const col = COLUMNS[view.sort.key];
  const shown = view.rows.filter((r) => !f || r.name.toLowerCase().includes(f) || r.opType.toLowerCase().includes(f) || r.storedAs.label.toLowerCase().includes(f));
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
  renderVisible(true);
}

/**
 * Only the rows in view are in the DOM: 10,000 layers scroll like 10. Each row sits at its own
 * offset and stays while it is in view, so a scroll adds the rows that come in and drops those
 * that leave; the browser moves what it has already painted instead of repainting the table.
 */
const rowElements = new Map<number, HTMLElement>();

function renderVisible(rebuild = false): void {
  const first = Math.max(0, Math.floor(viewport.scrollTop / ROW_HEIGHT) - 5);
  const end = Math.min(view.shown.length, first + Math.ceil(viewport.clientHeight / ROW_HEIGHT) + 10);
  if (rebuild) rowElements.clear();
  for (const [i, row] of rowElements) {
    if (i >= first && i < end) continue;
    row.remove();
    rowElements.delete(i);
  }
  const edited = new Set(view.edits.flatMap((e) => e.layers));
  // In document order too (screen readers read it): rows coming in above go first.
  const kept = rowElements.size ? Math.min(...rowElements.keys()) : Infinity;
  const above: HTMLElement[] = [];
  const below: HTMLElement[] = [];
  for (let i = first; i < end; i++) {
    if (rowElements.has(i)) continue;
    const row = rowElement(view.shown[i], i, edited);
    rowElements.set(i, row);
    (i < kept ? above : below).push(row);
  }
  if (rebuild) rowsBox.replaceChildren(...above, ...below);
  else {
    rowsBox.prepend(...above);
    rowsBox.append(...below);
  }
}

function rowElement(r: Row, i: number, edited: ReadonlySet<string>): HTMLElement {
  const row = el('div', { class: 'row', role: 'row', 'aria-rowindex': String(i + 2), 'aria-selected': String(view.selected.has(r.name)), 'data-layer': r.name });
  row.style.top = `${i * ROW_HEIGHT}px`;
  if (i === view.focus) row.classList.add('focus');
  if (edited.has(r.name)) row.classList.add('edited');
  for (const [key, c] of Object.entries(COLUMNS)) {
    const cell = el('div', { class: `cell ${key}`, role: 'gridcell' }, c.text(r));
    if (key === 'share') {
      const bar = el('span', { class: 'bar' });
      bar.style.width = `${Math.min(100, share(r) * 100)}%`;
      cell.prepend(bar);
    }
    if (key === 'name' && edited.has(r.name)) cell.title = `changed by: ${view.edits.filter((e) => e.layers.includes(r.name)).map((e) => e.label).join('; ')}`;
    row.append(cell);
  }
  row.addEventListener('click', (e) => select(i, e.ctrlKey || e.metaKey, e.shiftKey));
  return row;
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
  view.detailOf = r.name;
  render();
  form.refresh();
  showDetail();
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

/** What the detail pane last drew: layers stream in every 150 ms, and its charts are redrawn only when these change. */
let drawn: readonly unknown[] = [];

function showDetail(force = false): void {
  const r = view.rows.find((x) => x.name === view.detailOf);
  // The charts' arrays stay with the host until a layer is selected: ask once per analysis of it.
  if (r?.analyzed && !r.analyzed.deferred && view.detail?.of !== r.analyzed && view.detailAsked !== r.analyzed) {
    view.detailAsked = r.analyzed;
    vscode.postMessage({ type: 'layerDetail', index: r.index });
  }
  const full = r?.analyzed && view.detail?.of === r.analyzed ? view.detail.layer : undefined;
  const key = [r?.name, r?.analyzed, full, view.edits, view.logScale];
  if (!force && key.every((k, i) => k === drawn[i])) return;
  drawn = key;
  renderDetail(detail, r, full, {
    edits: view.edits,
    logScale: view.logScale,
    setLogScale: (on) => {
      view.logScale = on;
      showDetail();
    },
    analyzeLayer: (index) => vscode.postMessage({ type: 'analyzeLayer', index }),
  });
}

function renderEdits(): void {
  const { hint, items } = editsList(view.edits, view.savedEdits);
  const list = items.length ? [el('ol', {}, ...items.map((i) => el('li', i.saved ? { class: 'saved' } : {}, i.text)))] : [];
  editsBox.replaceChildren(el('h2', {}, 'Edits since opened'), ...list, ...(hint ? [el('p', { class: 'hint' }, hint)] : []));
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m.type) {
    case 'model':
      if (m.version !== view.version) {
        // A new version of the model: its analysis starts over (the host replays a reload's).
        view.analyzed = new Map();
        view.analysis = undefined;
        view.detail = undefined;
        view.detailAsked = undefined;
      }
      view.summary = m.summary;
      view.inputs = m.inputs;
      view.outputs = m.outputs;
      view.edits = m.edits;
      view.savedEdits = m.savedEdits;
      view.version = m.version;
      form.setDefaults(m.defaults);
      buildRows();
      renderSummary();
      render();
      form.refresh();
      renderEdits();
      showDetail();
      return;
    case 'analysis':
      if (m.version !== view.version) return;
      view.analysis = m.analysis;
      status.textContent = '';
      renderSummary();
      form.refresh();
      return;
    case 'layers':
      if (m.version !== view.version) return;
      for (const { index, layer } of m.layers) {
        const key = layerKey(layer);
        view.analyzed.set(key, layer);
        const row = view.rows[index];
        if (row && layerKey(row) === key) row.analyzed = layer;
      }
      render();
      showDetail();
      refreshPreviewSoon();
      return;
    case 'layerDetail': {
      const of = view.analyzed.get(layerKey(m.layer));
      if (m.version !== view.version || !of) return;
      view.detail = { index: m.index, layer: m.layer, of };
      showDetail();
      return;
    }
    case 'preview':
      if (m.id === view.previewId) form.showPreview(m.preview, m.cannot, m.presets);
      return;
    case 'progress':
      status.textContent = `${m.message} (${Math.round(m.fraction * 100)}%)`;
      return;
    case 'busy':
      form.busy = m.label !== null;
      if (m.label) status.textContent = m.label;
      else if (status.textContent?.endsWith('…')) status.textContent = '';
      return;
    case 'error':
      status.textContent = m.message;
      status.classList.add('error');
      setTimeout(() => status.classList.remove('error'), 5000);
      return;
    case 'notice':
      status.textContent = m.message;
      status.classList.add('notice');
      setTimeout(() => status.classList.remove('notice'), 10000);
      return;
  }
});

/** While layers stream in, the preview (a round trip to the host over every target layer) follows once a second. */
let previewTimer: ReturnType<typeof setTimeout> | undefined;
function refreshPreviewSoon(): void {
  previewTimer ??= setTimeout(() => {
    previewTimer = undefined;
    form.refresh();
  }, 1000);
}

showDetail();
onThemeChange(() => showDetail(true));
vscode.postMessage({ type: 'ready' });
