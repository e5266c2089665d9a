/**
 * The Compression Report's data: the model's size before and after the edits in effect (as
 * stored, as gzip would ship it, and as an order-0 entropy coder could at best), what each edit
 * did to each tensor, and the accuracy checks run on it. Plain data, so the editor's side panel,
 * its exports (Markdown, HTML, JSON) and tests share one definition; types only, so the browser
 * side can import it.
 */
import type { ChangeHistogram } from '../transforms/transform';

export interface SizeFigures {
  /** The model file's protobuf bytes (external data not included). */
  readonly bytes: number;
  /** Bytes of stored weights (initializers, constants), inline or external. */
  readonly weightBytes: number;
  /** gzip -6 of the file bytes: what a download would ship. */
  readonly gzipBytes: number;
  /** Order-0 (byte-wise) Shannon entropy of the file bytes: the floor for a simple entropy coder. */
  readonly entropyBytes: number;
}

export interface TensorChangeRow {
  readonly layer: string;
  readonly opType: string;
  readonly tensor: string;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** null: exact (or not a weight-value change, e.g. a layout change). */
  readonly sqnrDb: number | null;
  readonly maxError: number | null;
  /** Old and new values on common bins (the editor overlays them; reports leave them out). */
  readonly histogram?: ChangeHistogram;
}

export interface ReportEdit {
  readonly label: string;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly worstSqnrDb: number | null;
  readonly skipped: number;
  readonly changes: readonly TensorChangeRow[];
}

/** An edit as the editor lists it and the report shows it. */
export interface EditView extends ReportEdit {
  readonly layers: readonly string[];
  /** What the transform said about this edit (what it calibrated on, what it re-quantized from). */
  readonly notes?: readonly string[];
}

/** One accuracy check of the edited model against the file on disk. */
export interface AccuracyCheck {
  readonly when: string;
  /** Edit labels in effect when it ran. */
  readonly edits: readonly string[];
  readonly dataset: string;
  readonly samples: number;
  /** No labels: agreement and output error only. */
  readonly synthetic: boolean;
  readonly candidateBytes: number;
  readonly baselineAccuracy?: number;
  readonly candidateAccuracy?: number;
  readonly agreement?: number;
  readonly outputSqnrDb?: number;
  readonly maxAbsError?: number;
  readonly baselineLatencyMs?: number;
  readonly candidateLatencyMs?: number;
  /** PASS/FAIL against the budgets in the settings, with the figures and their 95% intervals. */
  readonly verdict?: { readonly pass: boolean; readonly line: string };
  /** Per output: "NAME: TASK — figures" (the task its metrics fit). */
  readonly outputs?: readonly string[];
  /** When the edited model is slower: by how much, why, and what would be faster. */
  readonly speed?: string;
}

export interface CompressionReport {
  readonly model: string;
  readonly generated: string;
  /** The model as opened: the session's baseline, kept across saves (or the baseline file's, below). */
  readonly before: SizeFigures;
  /** A headless report's baseline file (`onnx-compress report MODEL --baseline BASE`); absent in the editor. */
  readonly baseline?: string;
  /** The file as last saved in this session, when it was ("since last save"). */
  readonly saved?: SizeFigures;
  readonly after: SizeFigures;
  readonly edits: readonly ReportEdit[];
  readonly accuracy: readonly AccuracyCheck[];
}
