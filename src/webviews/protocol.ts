/**
 * Messages between the editor host and its webview: one discriminated union each way, shared by
 * both sides. The host owns the model and its state; the webview shows what it is sent and asks
 * for changes. On (re)load the webview says `ready` and the host replays everything.
 */
import type { ModelAnalysis } from '../analyzers/modelAnalysis';
import type { ModelSummary } from '../analyzers/modelSummary';

/** One applied edit as the webview lists it. */
export interface EditView {
  readonly label: string;
  readonly layers: readonly string[];
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Worst weight SQNR of the edit's tensors (null: exact). */
  readonly worstSqnrDb: number | null;
  readonly skipped: number;
}

/** A graph input or output as the header shows it. */
export interface ValueView {
  readonly name: string;
  readonly dataType: string;
  /** Dims, symbolic ones by name ('?' when unnamed). */
  readonly shape: readonly (number | string)[];
}

export type ToWebview =
  /** The model as it is now: summary at once; analysis follows when ready. */
  | { readonly type: 'model'; readonly summary: ModelSummary; readonly inputs: readonly ValueView[]; readonly outputs: readonly ValueView[]; readonly edits: readonly EditView[]; readonly version: number }
  | { readonly type: 'analysis'; readonly analysis: ModelAnalysis; readonly version: number }
  | { readonly type: 'progress'; readonly message: string; readonly fraction: number }
  | { readonly type: 'busy'; readonly label: string | null }
  | { readonly type: 'error'; readonly message: string };

export type FromWebview =
  | { readonly type: 'ready' }
  /** A recipe step (JSON) to apply; `layers` names the selection or is "*". */
  | { readonly type: 'apply'; readonly step: Record<string, unknown> }
  | { readonly type: 'selection'; readonly layers: readonly string[] };

export function isFromWebview(m: unknown): m is FromWebview {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && ['ready', 'apply', 'selection'].includes((m as { type: string }).type);
}
