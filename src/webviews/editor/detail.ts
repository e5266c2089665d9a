/**
 * The selected layer's detail: its facts, the main weight's histogram (linear or log; for an
 * edited layer the values before and after the edit on common bins), the per-channel ranges and
 * the singular-value energy curve.
 */
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, LineController, LineElement, LogarithmicScale, PointElement, Tooltip } from 'chart.js';
import type { AnalyzedLayer } from '../../analyzers/modelAnalysis';
import type { EditView, TensorChangeRow } from '../../report/compressionReport';
import { humanBytes } from '../../shared/format';
import { el, themeColor } from '../dom';
import type { Row } from './row';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LogarithmicScale, LineController, LineElement, PointElement, Legend, Tooltip);

export interface DetailContext {
  readonly edits: readonly EditView[];
  readonly logScale: boolean;
  setLogScale(on: boolean): void;
  analyzeLayer(index: number): void;
}

const charts: Chart[] = [];
const fmtDb = (v: number | string | null | undefined): string => (v === null || v === undefined ? '—' : typeof v === 'string' ? v : `${v.toFixed(1)} dB`);
const fmtCount = (n: number): string => n.toLocaleString('en-US');

/** How the real values the statistics describe come out of what is stored. */
function realValuesFrom(kind: Row['storedAs']['kind']): string {
  if (kind === 'masked') return 'the dense weight, zeros included';
  return kind === 'codebook' ? 'codebook entries' : kind === 'nbits' ? 'unpacked codes × block scale' : 'codes × scale';
}

/** `full` is the selected layer with its charts' arrays, once the host has sent it; the facts need only the row. */
export function renderDetail(box: HTMLElement, r: Row | undefined, full: AnalyzedLayer | undefined, ctx: DetailContext): void {
  for (const c of charts.splice(0)) c.destroy();
  if (!r) {
    box.replaceChildren(el('p', { class: 'hint' }, 'Select a layer to see its weights.'));
    return;
  }
  const a = r.analyzed;
  const red = a?.redundancy ?? null;
  const main = a?.weights.find((w) => w.name === red?.weight) ?? a?.weights.find((w) => w.stats);
  const stats = main?.stats;
  const facts: [string, string][] = [
    ['Op', `${r.opType}${r.domain ? ` (${r.domain})` : ''} in ${r.graph}`],
    ['Weights', r.weights.map((x) => `${x.name} [${x.shape.join('×')}] ${x.dataType} ${humanBytes(x.bytes)}`).join('; ')],
    ['Stored as', r.storedAs.label],
  ];
  if (stats) {
    facts.push(['Range', `${stats.min.toPrecision(4)} … ${stats.max.toPrecision(4)}, mean ${stats.mean.toPrecision(4)}, std ${stats.std.toPrecision(4)}${main?.dequantized ? ` (real values: ${realValuesFrom(r.storedAs.kind)})` : ''}`]);
    facts.push(['Zeros', `${(stats.zeroFraction * 100).toFixed(2)}% exact, ${(stats.nearZeroFraction * 100).toFixed(2)}% near zero`]);
    if (stats.nanFraction || stats.infFraction) facts.push(['Non-finite', `${(stats.nanFraction * 100).toFixed(3)}% NaN, ${(stats.infFraction * 100).toFixed(3)}% ±Inf`]);
  }
  if (red) {
    facts.push(['Low rank', red.rank90 === null ? (red.lowRankSkipped ?? '—') : `rank ${red.rank90} of ${red.fullRank ?? '?'} keeps 90% of the energy (${fmtCount(red.rank90Params ?? 0)} params); 99%: rank ${red.rank99 ?? '—'}`]);
    facts.push(['Quantization', `INT8 ${fmtDb(red.int8SqnrDb)}, INT4 ${fmtDb(red.int4SqnrDb)} (per channel); per tensor INT8 ${fmtDb(red.int8PerTensorSqnrDb)}, INT4 ${fmtDb(red.int4PerTensorSqnrDb)}`]);
    facts.push(['Clustering', `k=4 ${fmtDb(red.cluster4SqnrDb)}, k=16 ${fmtDb(red.cluster16SqnrDb)}, k=256 ${fmtDb(red.cluster256SqnrDb)}`]);
    facts.push(['Entropy', `${red.entropyBitsInt8.toFixed(2)} bits per INT8 code; Huffman-coded ${humanBytes(red.huffmanBytesInt8)}`]);
  }
  const dl = el('dl');
  for (const [k, v] of facts) dl.append(el('dt', {}, k), el('dd', {}, v));
  const parts: (Node | string)[] = [el('h2', {}, r.name), dl];
  if (a?.deferred) {
    const button = el('button', { type: 'button' }, 'Analyze this layer');
    button.addEventListener('click', () => {
      button.disabled = true;
      ctx.analyzeLayer(r.index);
    });
    parts.push(el('p', { class: 'hint' }, `Not analyzed yet: ${a.deferred}.`), button);
  } else if (!stats) parts.push(el('p', { class: 'hint' }, 'Statistics appear when the analysis reaches this layer.'));
  box.replaceChildren(...parts);

  const change = changeOf(ctx.edits, r.name);
  const mainStats = full?.weights.find((w) => w.name === main?.name)?.stats;
  const curve = full?.redundancy?.energyCurve;
  if (change?.histogram) box.append(...overlayChart(change, ctx));
  else if (mainStats && main) box.append(...histogramChart(main.dequantized ? `${main.name} (real values)` : main.name, mainStats.histogram, ctx));
  else if (stats) box.append(el('p', { class: 'hint', role: 'status' }, 'Loading the charts…'));
  if (mainStats?.channelRanges) box.append(...channelChart(mainStats.channelRanges));
  if (curve) box.append(...energyChart(curve, red?.lowRankMethod === 'randomized'));
}

/** The latest change of this layer's main weight (the one with a histogram), if an edit made one. */
function changeOf(edits: readonly EditView[], layer: string): (TensorChangeRow & { edit: string }) | undefined {
  for (let i = edits.length - 1; i >= 0; i--) {
    const c = edits[i].changes.find((x) => x.layer === layer && x.histogram);
    if (c) return { ...c, edit: edits[i].label };
  }
  return undefined;
}

function canvasIn(label: string, heading: string): { nodes: Node[]; canvas: HTMLCanvasElement } {
  const canvas = el('canvas', { role: 'img', 'aria-label': label });
  return { nodes: [el('h3', {}, heading), el('div', { class: 'chart' }, canvas)], canvas };
}

function scaleToggle(ctx: DetailContext): HTMLButtonElement {
  const toggle = el('button', { type: 'button', 'aria-pressed': String(ctx.logScale) }, ctx.logScale ? 'Linear scale' : 'Log scale');
  toggle.addEventListener('click', () => ctx.setLogScale(!ctx.logScale));
  return toggle;
}

function axes(logY: boolean, x: Record<string, unknown> = {}): Record<string, unknown> {
  const text = themeColor('--vscode-foreground', '#888');
  return { x: { ticks: { color: text, maxTicksLimit: 8 }, ...x }, y: { type: logY ? 'logarithmic' : 'linear', ticks: { color: text } } };
}

/** Bars at their bins' centres on a linear axis: Chart.js then ticks the axis at round values, not at bin labels. */
const atBinCentres = (h: { min: number; max: number }, counts: number[], y: (c: number) => number): { x: number; y: number }[] =>
  counts.map((c, i) => ({ x: h.min + ((i + 0.5) * (h.max - h.min)) / counts.length, y: y(c) }));

/** The linear x axis of a histogram: no fixed min/max (they would be ticks too), so every tick is a round value. */
const valueAxis = (): Record<string, unknown> => ({ type: 'linear', offset: false });

function histogramChart(name: string, h: { min: number; max: number; counts: number[] }, ctx: DetailContext): Node[] {
  const { nodes, canvas } = canvasIn(`Histogram of ${name}`, `Histogram of ${name}`);
  const y = (c: number): number => (ctx.logScale ? c + 1 : c); // log scale: empty bins at 1
  charts.push(
    new Chart(canvas, {
      type: 'bar',
      data: { datasets: [{ label: name, data: atBinCentres(h, h.counts, y), backgroundColor: themeColor('--vscode-charts-blue', '#38c'), barPercentage: 1, categoryPercentage: 1 }] },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: axes(ctx.logScale, valueAxis()) as never, plugins: { legend: { display: false } } },
    }),
  );
  return [scaleToggle(ctx), ...nodes];
}

function overlayChart(c: TensorChangeRow & { edit: string }, ctx: DetailContext): Node[] {
  const h = c.histogram!;
  const { nodes, canvas } = canvasIn(`Histogram of ${c.tensor} before and after ${c.edit}`, `Before and after: ${c.edit}`);
  const y = (v: number): number => (ctx.logScale ? v + 1 : v);
  const before = themeColor('--vscode-charts-blue', '#38c');
  const after = themeColor('--vscode-charts-orange', '#d83');
  charts.push(
    new Chart(canvas, {
      type: 'bar',
      data: {
        datasets: [
          { label: 'before', data: atBinCentres(h, h.before, y), backgroundColor: before, barPercentage: 1, categoryPercentage: 1, grouped: false, order: 1 },
          { label: 'after', data: atBinCentres(h, h.after, y), backgroundColor: after, barPercentage: 0.5, categoryPercentage: 1, grouped: false, order: 0 },
        ],
      },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: axes(ctx.logScale, valueAxis()) as never,
        plugins: { legend: { labels: { color: themeColor('--vscode-foreground', '#888') } } },
      },
    }),
  );
  const figures = el('p', { class: 'hint' }, `${c.tensor}: SQNR ${fmtDb(c.sqnrDb)}, max error ${c.maxError === null ? '—' : c.maxError.toPrecision(3)}, ${humanBytes(c.bytesBefore)} → ${humanBytes(c.bytesAfter)}`);
  return [scaleToggle(ctx), ...nodes, figures];
}

function channelChart(ranges: { axis: number; min: number[]; max: number[] }): Node[] {
  const n = ranges.min.length;
  const { nodes, canvas } = canvasIn(`Value range of each of ${n} channels along axis ${ranges.axis}`, `Channel ranges (${n} along axis ${ranges.axis})`);
  charts.push(
    new Chart(canvas, {
      type: 'bar',
      data: {
        labels: ranges.min.map((_, i) => String(i)),
        datasets: [{ label: 'min … max', data: ranges.min.map((lo, i) => [lo, ranges.max[i]]), backgroundColor: themeColor('--vscode-charts-purple', '#96c'), barPercentage: 1, categoryPercentage: 0.9 }],
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false, scales: axes(false) as never, plugins: { legend: { display: false } } },
    }),
  );
  const widest = Math.max(...ranges.max.map((hi, i) => hi - ranges.min[i]));
  const narrowest = Math.min(...ranges.max.map((hi, i) => hi - ranges.min[i]));
  const spread = narrowest > 0 ? `widest channel ${(widest / narrowest).toFixed(1)}× the narrowest: per-channel scales pay off when this is large` : 'some channels are constant';
  return [...nodes, el('p', { class: 'hint' }, spread)];
}

function energyChart(curve: { ranks: number[]; kept: number[]; fullRank: number }, randomized: boolean): Node[] {
  const { nodes, canvas } = canvasIn('Singular-value energy kept by rank', `Energy kept by rank (full rank ${curve.fullRank})`);
  const text = themeColor('--vscode-foreground', '#888');
  charts.push(
    new Chart(canvas, {
      type: 'line',
      data: { datasets: [{ label: 'energy kept (%)', data: curve.ranks.map((r, i) => ({ x: r, y: 100 * curve.kept[i] })), borderColor: themeColor('--vscode-charts-green', '#3a3'), pointRadius: 0 }] },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        scales: { x: { type: 'linear', min: 0, max: curve.fullRank, title: { display: true, text: 'rank', color: text }, ticks: { color: text } }, y: { min: 0, max: 100, ticks: { color: text } } },
        plugins: { legend: { display: false } },
      },
    }),
  );
  return randomized ? [...nodes, el('p', { class: 'hint' }, 'Randomized estimate: the top singular values only, energies are lower bounds.')] : nodes;
}
