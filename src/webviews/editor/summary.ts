/** The editor's header: the file, its format, weights by type, inputs and outputs, and the estimated sizes once analyzed. */
import type { ModelAnalysis } from '../../analyzers/modelAnalysis';
import type { ModelSummary } from '../../analyzers/modelSummary';
import type { ValueView } from '../../shared/protocol';
import { el } from '../dom';
import { fmtBytes, fmtCount } from './columns';
import { estimateParts } from '../../shared/format';

export function summaryElements(s: ModelSummary, analysis: Omit<ModelAnalysis, 'layers'> | undefined, inputs: readonly ValueView[], outputs: readonly ValueView[]): HTMLElement[] {
  const m = s.model;
  const est = analysis?.estimates;
  return [
    el('h1', {}, m.file),
    el(
      'p',
      {},
      `${fmtBytes(m.fileBytes)} · IR ${m.irVersion ?? '?'} · opsets ${Object.entries(m.opsets).map(([d, v]) => `${d} ${v}`).join(', ')} · ${m.producer || 'unknown producer'} · ` +
        `${fmtCount(m.parameterCount)} parameters · weights ${fmtBytes(m.weightBytes)} (${Object.entries(s.breakdown.byDataType).map(([t, v]) => `${t} ${fmtBytes(v.bytes)}`).join(', ')})`,
    ),
    el('p', { class: 'io' }, `Inputs: ${values(inputs)} · Outputs: ${values(outputs)}`),
    el(
      'p',
      { class: 'estimates' },
      est
        ? `Estimated weights: ${estimateParts(est).join(' · ')}${analysis?.macs.total ? ` · ${fmtCount(analysis.macs.total)} MACs` : ''}`
        : 'Analyzing…',
    ),
  ];
}

function values(list: readonly ValueView[]): string {
  return list.map((v) => `${v.name} [${v.shape.join('×')}] ${v.dataType}`).join(', ') || '—';
}
