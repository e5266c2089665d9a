/** What the editor's webview shows and how: the model as the host last sent it, and the view's own choices. */
import type { AnalyzedLayer, ModelAnalysis } from '../../analyzers/modelAnalysis';
import type { ModelSummary } from '../../analyzers/modelSummary';
import type { EditView, TableLayer, ValueView } from '../../shared/protocol';
import type { ColumnKey } from './columns';
import type { Row } from './row';

export const view = {
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
  sort: { key: 'bytes' as ColumnKey, descending: true },
  filter: '',
  logScale: false,
  /** The layer whose detail is shown (the last one clicked). */
  detailOf: undefined as string | undefined,
  /** The id of the latest preview asked for: older answers are dropped. */
  previewId: 0,
};
