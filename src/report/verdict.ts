/**
 * The one line a report opens with: what compression bought (size), what it cost (agreement or
 * accuracy) and what it did to speed, with the reason when it got slower and the reason is known.
 */
import type { StepResult } from '../transforms/apply';
import type { EvaluationResult } from '../eval/protocol';
import { humanBytes } from '../shared/format';
import { SAME_SPEED } from '../eval/latencyCause';
import { NBITS_SMALL_WIDTH } from '../shared/stepSpec';

export interface SizeOutcome {
  readonly fileBytesBefore: number;
  /** Null when nothing was written. */
  readonly fileBytesAfter: number | null;
  readonly steps: readonly StepResult[];
}


export function verdictLine(size: SizeOutcome, evaluation: EvaluationResult): string {
  return [sizeClause(size), qualityClause(evaluation), speedClause(size.steps, evaluation)].filter((c) => c !== undefined).join(', ');
}

function times(r: number): string {
  const fixed = r.toFixed(1);
  return `${fixed === '1.0' ? r.toFixed(2) : fixed}x`;
}

function sizeClause(s: SizeOutcome): string {
  const before = humanBytes(s.fileBytesBefore);
  if (s.fileBytesAfter === null) return `${before}, unchanged (no layer could take the recipe)`;
  const after = humanBytes(s.fileBytesAfter);
  if (s.fileBytesAfter < s.fileBytesBefore) return `${before} → ${after} (${times(s.fileBytesBefore / s.fileBytesAfter)} smaller)`;
  return `${before} → ${after} (${s.fileBytesAfter === s.fileBytesBefore ? 'same size' : `${times(s.fileBytesAfter / s.fileBytesBefore)} larger`})`;
}

function qualityClause(e: EvaluationResult): string | undefined {
  const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;
  const on = e.synthetic ? `${e.samples} synthetic inputs` : `${e.samples} samples`;
  const base = e.baseline?.accuracy;
  const cand = e.candidate.accuracy;
  if (base !== undefined && cand !== undefined) {
    const agreement = e.agreement !== undefined ? ` (top-1 agreement ${pct(e.agreement)})` : '';
    return `top-1 accuracy ${pct(base)} → ${pct(cand)} on ${on}${agreement}`;
  }
  const first = e.tasks?.[0];
  if (first) return `${first.agreement.unmeasured ? `${first.agreement.name}: ${first.agreement.unmeasured}` : `${first.agreement.name} ${pct(first.agreement.value)}`} and SQNR ${first.sqnr.value.toFixed(1)} dB on ${first.name} (${first.task}), ${on}`;
  if (e.agreement !== undefined) return `top-1 agreement ${pct(e.agreement)} on ${on}`;
  return cand !== undefined ? `top-1 accuracy ${pct(cand)} on ${on}` : undefined;
}

function speedClause(steps: readonly StepResult[], e: EvaluationResult): string | undefined {
  if (!e.baseline) return undefined;
  const r = e.candidate.latencyMs.median / e.baseline.latencyMs.median;
  if (!Number.isFinite(r) || r <= 0) return undefined;
  if (r < 1 / SAME_SPEED) return `latency ${times(1 / r)} faster`;
  if (r <= SAME_SPEED) return 'latency unchanged';
  const why = slowdownReason(steps);
  return `latency ${times(r)} slower${why ? `: ${why}` : ''}`;
}

/** Why a compressed model runs slower, when a step that changed layers is known to cost time at run time. */
function slowdownReason(steps: readonly StepResult[]): string | undefined {
  const weightOnly = steps.filter((s) => s.transform === 'quantize' && s.changed.length > 0 && s.step.mode !== 'static');
  const nbits = weightOnly.filter((s) => s.step.format === 'matmulnbits');
  if (weightOnly.some((s) => s.step.dtype !== 'float16' && s.step.format !== 'matmulnbits')) return 'weight-only DequantizeLinear runs every inference';
  // MatMulNBits reads fewer bytes yet loses to float GEMM on small layers and long windows (latencyCause.ts).
  if (nbits.length) return `onnxruntime's MatMulNBits kernels can be slower than float GEMM on layers ≲ ${NBITS_SMALL_WIDTH} wide and on many-token inputs`;
  if (weightOnly.length) return "the FP16 weights' Cast back to FLOAT runs every inference";
  return undefined;
}
