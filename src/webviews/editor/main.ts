/**
 * The model editor's webview: summary, a virtualized and sortable layer table that fills in as
 * layers are analyzed, the selected layer's detail (detail.ts), the edits in effect, and the
 * compress form with its preview (stepForm.ts). It keeps only view state; the host replays the
 * model whenever the view (re)loads.
 */
import type { FromWebview, ToWebview } from '../../shared/protocol';
import { qualifiedLayerName } from '../../shared/layerName';
import { el, onThemeChange } from '../dom';
import { renderDetail } from './detail';
import { layerKey, type Row } from './row';
import { StepForm } from './stepForm';
import { editsList } from './editsList';
import { columnWidth, compareForSort, gridTemplate } from './tableLayout';
import { fitName } from './fitName';
import { share, tableColumns, type Column, type ColumnKey } from './columns';
import { summaryElements } from './summary';
import { view } from './viewState';

/** What the webview remembers across reloads and tab switches (VS Code keeps it with the editor). */
type SavedState = { widths?: Partial<Record<string, number>>; detailCollapsed?: boolean };
declare function acquireVsCodeApi(): { postMessage(m: FromWebview): void; getState(): SavedState | undefined; setState(s: SavedState): void };
const vscode = acquireVsCodeApi();
const saved: SavedState = { ...(vscode.getState() ?? {}) };
const remember = (change: SavedState): void => vscode.setState(Object.assign(saved, change));

const ROW_HEIGHT = 24;

const COLUMNS = tableColumns(() => view.summary?.model.weightBytes ?? 0);
const COLUMN_KEYS = Object.keys(COLUMNS) as ColumnKey[];

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
  cancel: () => vscode.postMessage({ type: 'cancelApply' }),
  chooseCalibration: () => vscode.postMessage({ type: 'chooseCalibration' }),
});
toolbar.append(filterBox, form.element);

const detailToggle = el('button', { type: 'button', class: 'detail-toggle', 'aria-controls': 'layer-detail' });
detail.id = 'layer-detail';
function showDetailPane(collapsed: boolean): void {
  app.classList.toggle('detail-collapsed', collapsed);
  detailToggle.textContent = collapsed ? 'Show details' : 'Hide details';
  detailToggle.title = collapsed ? 'Show the selected layer\'s detail beside the table' : 'Hide the detail pane: the table gets the width';
  detailToggle.setAttribute('aria-expanded', String(!collapsed));
  detail.hidden = collapsed;
}
detailToggle.addEventListener('click', () => {
  const collapsed = !app.classList.contains('detail-collapsed');
  showDetailPane(collapsed);
  remember({ detailCollapsed: collapsed });
  fitColumns();
});
showDetailPane(saved.detailCollapsed === true);
toolbar.prepend(detailToggle);

/** Each column's width in pixels; `least` is what its header (title and sort arrow) needs. */
const widths = new Map<ColumnKey, number>();
const least = new Map<ColumnKey, number>();
/** Set while a column is dragged wider or narrower, so the click ending the drag does not sort. */
let resizing = false;

for (const key of COLUMN_KEYS) {
  const c: Column = COLUMNS[key];
  const resizer = el('span', { class: 'resizer', 'aria-hidden': 'true' });
  const cell = el('div', { class: `cell ${key}`, role: 'columnheader', tabindex: '0', 'aria-sort': 'none', title: `${c.hint}. Click to sort; drag the right edge (or Ctrl+←/→) to resize.` }, el('span', { class: 'title' }, c.title), resizer);
  const sortBy = (): void => {
    if (resizing) return;
    view.sort = { key, descending: view.sort.key === key ? !view.sort.descending : c.first === 'descending' };
    render();
  };
  cell.addEventListener('click', sortBy);
  cell.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' || e.key === ' ') {
      e.preventDefault();
      sortBy();
    } else if ((e.ctrlKey || e.altKey) && (e.key === 'ArrowLeft' || e.key === 'ArrowRight')) {
      e.preventDefault();
      resizeColumn(key, (widths.get(key) ?? c.width) + (e.key === 'ArrowRight' ? 16 : -16), true);
    }
  });
  resizer.addEventListener('pointerdown', (e) => {
    e.preventDefault();
    e.stopPropagation();
    resizing = true;
    resizer.setPointerCapture(e.pointerId);
    const x0 = e.clientX;
    const w0 = widths.get(key) ?? c.width;
    const move = (m: PointerEvent): void => resizeColumn(key, w0 + m.clientX - x0, false);
    const up = (): void => {
      resizer.removeEventListener('pointermove', move);
      resizer.removeEventListener('pointerup', up);
      resizer.removeEventListener('pointercancel', up);
      resizeColumn(key, widths.get(key) ?? w0, true);
      setTimeout(() => (resizing = false), 0);
    };
    resizer.addEventListener('pointermove', move);
    resizer.addEventListener('pointerup', up);
    resizer.addEventListener('pointercancel', up);
  });
  resizer.addEventListener('click', (e) => e.stopPropagation());
  resizer.addEventListener('dblclick', (e) => {
    e.stopPropagation();
    resizeColumn(key, c.width, true);
  });
  head.append(cell);
}

/**
 * What each header needs: laid out at its content's width with a sort arrow, every header is
 * measured once; no width given to a column (default, remembered or dragged) is ever less.
 */
function measureHeaders(): void {
  const sorts = [...head.children].map((cell) => cell.getAttribute('aria-sort'));
  for (const cell of head.children) cell.setAttribute('aria-sort', 'descending');
  head.style.gridTemplateColumns = COLUMN_KEYS.map(() => 'max-content').join(' ');
  COLUMN_KEYS.forEach((key, i) => least.set(key, Math.ceil((head.children[i] as HTMLElement).getBoundingClientRect().width) + 2));
  head.style.gridTemplateColumns = '';
  [...head.children].forEach((cell, i) => cell.setAttribute('aria-sort', sorts[i] ?? 'none'));
  for (const key of COLUMN_KEYS) widths.set(key, columnWidth(saved.widths?.[key], COLUMNS[key].width, least.get(key) ?? 0));
  applyWidths();
}

function resizeColumn(key: ColumnKey, width: number, done: boolean): void {
  widths.set(key, columnWidth(width, COLUMNS[key].width, least.get(key) ?? 0));
  applyWidths();
  if (!done) return;
  remember({ widths: Object.fromEntries(widths) });
  renderVisible(true);
}

function applyWidths(): void {
  const list = COLUMN_KEYS.map((k) => widths.get(k) ?? COLUMNS[k].width);
  table.style.setProperty('--columns', gridTemplate(list));
  table.style.setProperty('--table-width', `${list.reduce((a, b) => a + b, 0)}px`);
  fitColumns();
}

/** The header leaves room for the rows' scrollbar, so its columns stay over theirs. */
function fitColumns(): void {
  const scrollbar = `${viewport.offsetWidth - viewport.clientWidth}px`;
  head.style.paddingRight = scrollbar;
  table.style.setProperty('--scrollbar', scrollbar);
}

viewport.append(spacer, rowsBox);
table.append(head, viewport);
// Until the host's first message (a big model takes seconds to parse) the header says so.
header.replaceChildren(el('p', { class: 'loading' }, 'Opening the model…'));
app.replaceChildren(header, status, toolbar, form.preview, table, detail, editsBox);
measureHeaders();
/** The name column takes the room left: when it changes, its names are shortened again. */
let nameWidth = 0;
new ResizeObserver(() => {
  fitColumns();
  const w = (head.children[0] as HTMLElement).clientWidth;
  if (w === nameWidth) return;
  nameWidth = w;
  renderVisible(true);
}).observe(head.children[0]);

// ---- rendering ----------------------------------------------------------------------------

function renderSummary(): void {
  if (view.summary) header.replaceChildren(...summaryElements(view.summary, view.analysis, view.inputs, view.outputs));
}

function buildRows(): void {
  view.rows = (view.summary?.layers ?? []).map((l, index) => ({ ...l, index, name: qualifiedLayerName(l), analyzed: view.analyzed.get(layerKey(l)) }));
}

function render(): void {
  const f = view.filter.toLowerCase();
  const col: Column = COLUMNS[view.sort.key];
  const shown = view.rows.filter((r) => !f || r.name.toLowerCase().includes(f) || r.opType.toLowerCase().includes(f) || r.storedAs.label.toLowerCase().includes(f));
  shown.sort((a, b) => compareForSort(col.value(a), col.value(b), view.sort.descending));
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
  for (const key of COLUMN_KEYS) {
    const c: Column = COLUMNS[key];
    const text = c.text(r);
    const cell = el('div', { class: `cell ${key}`, role: 'gridcell' }, key === 'name' ? fitName(head.children[0] as HTMLElement, r.name, edited.has(r.name)) : text);
    if (!c.numeric && text) cell.title = text;
    if (key === 'share') {
      const bar = el('span', { class: 'bar' });
      bar.style.width = `${Math.min(100, share(r, view.summary?.model.weightBytes ?? 0) * 100)}%`;
      cell.prepend(bar);
    }
    if (key === 'name' && edited.has(r.name)) cell.title = `${r.name}\nchanged by: ${view.edits.filter((e) => e.layers.includes(r.name)).map((e) => e.label).join('; ')}`;
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
  const list = items.length ? [el('ol', {}, ...items.map((i) => el('li', i.saved ? { class: 'saved' } : {}, i.text, ...i.notes.map((n) => el('div', { class: 'hint' }, n)))))] : [];
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
      form.setCalibration(m.calibration);
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
      status.textContent = m.message;
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
