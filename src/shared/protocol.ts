/**
 * Messages between the editor host and its webview: one discriminated union each way, shared by
 * both sides. The host owns the model and its state; the webview shows what it is sent and asks
 * for changes. On (re)load the webview says `ready` and the host replays everything.
 */
import type { AnalyzedLayer, ModelAnalysis } from '../analyzers/modelAnalysis';
import type { ModelSummary } from '../analyzers/modelSummary';
import type { CompressionReport, EditView } from '../report/compressionReport';
import type { TransformName } from './stepSpec';
import type { GraphValue } from '../core/onnx/graphValues';
import type { StepPreview } from '../analyzers/stepPreview';
import type { TableLayer } from './tableLayer';

export type { EditView, TableLayer };

export type TransformDefaults = Partial<Record<TransformName, Record<string, unknown>>>;

/** A graph input or output as the header shows it. */
export type ValueView = GraphValue;

export type ToWebview =
  /** The model as it is now: summary at once; analysis follows when ready. */
  | {
      readonly type: 'model';
      readonly summary: ModelSummary;
      readonly inputs: readonly ValueView[];
      readonly outputs: readonly ValueView[];
      /** The edits in effect since the model was opened (a save keeps them). */
      readonly edits: readonly EditView[];
      /** How many of `edits` the file on disk holds; null when it holds none of them (e.g. undo past a save). */
      readonly savedEdits: number | null;
      readonly version: number;
      /** The user's default parameters per transform (settings `onnxCompress.defaults.*`). */
      readonly defaults: TransformDefaults;
      /** What GPTQ and static quantization calibrate on here: data chosen for it, the last accuracy check's, or random inputs. */
      readonly calibration: string;
    }
  /** The whole analysis is in (its layers came before in `layers` messages: the table keeps them). */
  | { readonly type: 'analysis'; readonly analysis: Omit<ModelAnalysis, 'layers'>; readonly version: number }
  /** Layers analyzed since the last message (by index into the summary's layers). */
  | { readonly type: 'layers'; readonly layers: readonly { readonly index: number; readonly layer: TableLayer }[]; readonly version: number }
  /** One layer in full (histograms, channel ranges, energy curve), as the webview asked. */
  | { readonly type: 'layerDetail'; readonly index: number; readonly layer: AnalyzedLayer; readonly version: number }
  /**
   * The form's preview of a step, computed by the host on the full analysis; `id` is the request's.
   * `cannot`: why the step can take no target layer (Apply is disabled). `presets`: the same for
   * each preset of the step's transform, null where it can apply.
   */
  | { readonly type: 'preview'; readonly id: number; readonly preview: StepPreview; readonly cannot?: string; readonly presets: readonly (string | null)[] }
  | { readonly type: 'progress'; readonly message: string; readonly fraction: number }
  | { readonly type: 'busy'; readonly label: string | null }
  | { readonly type: 'error'; readonly message: string }
  /** Something the user should read that is not a failure (e.g. an apply that changed nothing, and why). */
  | { readonly type: 'notice'; readonly message: string };

export type FromWebview =
  | { readonly type: 'ready' }
  /** A recipe step (JSON) to apply; `layers` names the selection or is "*". */
  | { readonly type: 'apply'; readonly step: Record<string, unknown> }
  /** Stop the step being applied. */
  | { readonly type: 'cancelApply' }
  /** Ask which data GPTQ and static quantization calibrate on. */
  | { readonly type: 'chooseCalibration' }
  | { readonly type: 'selection'; readonly layers: readonly string[] }
  /** Analyze a layer that was left out when the model opened (index into the summary's layers). */
  | { readonly type: 'analyzeLayer'; readonly index: number }
  /** Send this layer in full (it is selected). */
  | { readonly type: 'layerDetail'; readonly index: number }
  /** Estimate what this step would do to these layers (names, or "*" for all). */
  | { readonly type: 'preview'; readonly id: number; readonly step: Record<string, unknown>; readonly layers: readonly string[] | '*' };

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isIndex = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const isNames = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** A webview message with every field of its type well-formed; anything else is not one of ours. */
export function isFromWebview(m: unknown): m is FromWebview {
  if (!isRecord(m)) return false;
  switch (m.type) {
    case 'ready':
    case 'cancelApply':
    case 'chooseCalibration':
      return true;
    case 'apply':
      return isRecord(m.step);
    case 'selection':
      return isNames(m.layers);
    case 'analyzeLayer':
    case 'layerDetail':
      return isIndex(m.index);
    case 'preview':
      return Number.isSafeInteger(m.id) && isRecord(m.step) && (m.layers === '*' || isNames(m.layers));
    default:
      return false;
  }
}

/** Host → Compression Report view. `report` is null when no ONNX editor is active. */
export type ToReport =
  | { readonly type: 'report'; readonly report: CompressionReport | null }
  | { readonly type: 'busy'; readonly label: string | null };

export type ReportFormat = 'markdown' | 'html' | 'json';

export type FromReport = { readonly type: 'ready' } | { readonly type: 'export'; readonly format: ReportFormat } | { readonly type: 'checkAccuracy' };

export function isFromReport(m: unknown): m is FromReport {
  if (!isRecord(m)) return false;
  if (m.type === 'export') return m.format === 'markdown' || m.format === 'html' || m.format === 'json';
  return m.type === 'ready' || m.type === 'checkAccuracy';
}
