/**
 * Why a compressed model can run slower than its original in onnxruntime, read from its graph:
 * weights stored quantized behind DequantizeLinear (or FP16 behind a Cast) are widened back to
 * float on every inference, and the float kernels then run as before — unless the op's activation
 * is dequantized too (static INT8), when onnxruntime fuses them into an integer kernel. Says which transform would
 * run faster on this runtime: static INT8 (activations quantized too, so onnxruntime fuses the
 * QDQ pairs into integer kernels) for convolutions, MatMulNBits for MatMul and Gemm layers.
 * MatMulNBits itself can be the cause: its 4-bit kernels read 1/8 of the bytes of float weights,
 * yet lose to float GEMM on small layers and many-token windows (docs/benchmarks.md).
 */
import type { ModelProto, NodeProto } from '../core/onnx/proto';
import { NBITS_SMALL_WIDTH } from '../shared/stepSpec';

export interface WeightWidening {
  /** DequantizeLinear nodes whose input is a stored weight, by the op that reads their output. */
  readonly dequantized: Readonly<Record<string, number>>;
  /** Casts of stored FP16 weights to float. */
  readonly casts: number;
  /** Static INT8 is there already: activations are quantized too (a QuantizeLinear reads a computed value). */
  readonly staticQuantized: boolean;
  /** MatMulNBits nodes, their widest bits, and the widest of their layers' narrower side min(K, N) (about d_model); absent without any. */
  readonly nbits?: NbitsLayers;
}

/**
 * The layer width up to which onnxruntime's 4-bit MatMulNBits kernels were slower than float
 * GEMM on 64-token windows (docs/benchmarks.md, "INT4 MatMulNBits latency": 1.12–1.58x FP32 at
 * d_model 192; 0.81x at 1024; one-token steps 0.23–0.26x at 1024).
 */

interface NbitsLayers {
  readonly count: number;
  readonly bits: number;
  readonly width: number;
}

function intAttribute(n: NodeProto, name: string): number {
  const a = n.attribute.find((x) => x.name === name);
  return a?.i !== undefined ? Number(a.i) : 0;
}

export function weightWidening(proto: ModelProto): WeightWidening {
  const graph = proto.graph;
  const dequantized: Record<string, number> = {};
  if (!graph) return { dequantized, casts: 0, staticQuantized: false };
  const stored = new Set(graph.initializer.map((t) => t.name ?? ''));
  const readers = new Map<string, NodeProto[]>();
  for (const n of graph.node) {
    for (const i of n.input) {
      const list = readers.get(i);
      if (list) list.push(n);
      else readers.set(i, [n]);
    }
  }
  // Dequantized activations: a DequantizeLinear of a computed value (the QDQ pair of static INT8).
  const dequantizedActivations = new Set(graph.node.filter((n) => n.opType === 'DequantizeLinear' && !stored.has(n.input[0])).map((n) => n.output[0]));
  let casts = 0;
  let staticQuantized = false;
  let nbits = 0;
  let width = 0;
  let bits = 0;
  for (const n of graph.node) {
    if (n.opType === 'MatMulNBits') {
      nbits++;
      width = Math.max(width, Math.min(intAttribute(n, 'K'), intAttribute(n, 'N')));
      bits = Math.max(bits, intAttribute(n, 'bits') || 4); // 4 is the attribute's default
    }
    const fromWeight = stored.has(n.input[0]);
    if (n.opType === 'DequantizeLinear' && fromWeight) {
      // onnxruntime fuses a weight's (or bias's) DequantizeLinear into an integer kernel (QLinearConv,
      // QLinearMatMul) when the op's activation comes dequantized too: that weight is not widened.
      const widening = (readers.get(n.output[0]) ?? []).filter((r) => !r.input.some((i) => dequantizedActivations.has(i)));
      for (const op of new Set(widening.map((r) => r.opType ?? '?'))) dequantized[op] = (dequantized[op] ?? 0) + 1;
    } else if (n.opType === 'Cast' && fromWeight) casts++;
    else if (n.opType === 'QuantizeLinear' && !fromWeight) staticQuantized = true;
  }
  return { dequantized, casts, staticQuantized, ...(nbits ? { nbits: { count: nbits, bits, width } } : {}) };
}

/** Why MatMulNBits layers can be slower than the float MatMuls they replaced. */
function nbitsCost(n: NbitsLayers): string {
  const small = n.width > 0 && n.width <= NBITS_SMALL_WIDTH;
  const layers = `${n.count} MatMulNBits layer${n.count === 1 ? '' : 's'}${n.width ? ` (at most ${n.width} wide)` : ''}`;
  return (
    `${layers} read 1/${32 / n.bits} of float's bytes per weight, but onnxruntime's ${n.bits}-bit kernels are slower than float GEMM ${small ? `on layers this small (≲ ${NBITS_SMALL_WIDTH} wide) and ` : ''}on many-token inputs; ` +
    'they are faster for single-token steps and large layers (docs/benchmarks.md, INT4: 0.81x FP32 at d_model 1024 for 64 tokens, 0.23–0.26x for one token)'
  );
}

/** Says that MatMulNBits is no sure speed-up: what the advice to use it adds. */
const NBITS_CAVEAT = `faster for single-token steps and large layers; on layers ≲ ${NBITS_SMALL_WIDTH} wide or many-token inputs it can be slower than float`;

/** The sentence that follows "the candidate is N× slower", or undefined when its graph shows no reason. */
export function slowdownExplanation(w: WeightWidening): string | undefined {
  const total = Object.values(w.dequantized).reduce((a, b) => a + b, 0);
  if (total === 0 && w.casts === 0 && !w.nbits) return undefined;
  const parts: string[] = [];
  if (w.nbits) parts.push(nbitsCost(w.nbits));
  if (total) {
    const byOp = Object.entries(w.dequantized).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${n} ${op}`).join(', ');
    parts.push(`${total} weight-only DequantizeLinear node${total === 1 ? '' : 's'} (${byOp}) widen their weights to float on every inference, then the float kernels run as before`);
  }
  if (w.casts) parts.push(`${w.casts} Cast node${w.casts === 1 ? '' : 's'} widen FP16 weights to float on every inference`);
  const faster: string[] = [];
  const matmuls = (w.dequantized.MatMul ?? 0) + (w.dequantized.Gemm ?? 0);
  const convs = total - matmuls;
  if (matmuls) faster.push(`quantize with format matmulnbits (onnxruntime's MatMulNBits kernels) for the MatMul/Gemm layers (${NBITS_CAVEAT})`);
  if ((convs || w.casts) && !w.staticQuantized) faster.push('quantize with mode static (INT8 activations too: onnxruntime fuses the QDQ pairs into integer kernels)');
  return `${parts.join('; ')}.${faster.length ? ` What avoids that cost on onnxruntime (check its accuracy too): ${faster.join('; or ')}.` : ''}`;
}

/** Latency within this factor of the baseline's is "unchanged": timings on a shared machine wobble by a few percent. */
export const SAME_SPEED = 1.05;

export interface SpeedComparison {
  /** Candidate's median time per batch over the baseline's. */
  readonly ratio: number;
  readonly verdict: 'faster' | 'unchanged' | 'slower';
  /** When slower: why, from the candidate's graph, and what would be faster. */
  readonly why?: string;
}

export function compareSpeed(candidateMs: number, baselineMs: number, widening: WeightWidening): SpeedComparison | undefined {
  const ratio = candidateMs / baselineMs;
  if (!Number.isFinite(ratio) || ratio <= 0) return undefined;
  if (ratio < 1 / SAME_SPEED) return { ratio, verdict: 'faster' };
  if (ratio <= SAME_SPEED) return { ratio, verdict: 'unchanged' };
  const why = slowdownExplanation(widening);
  return { ratio, verdict: 'slower', ...(why ? { why } : {}) };
}

export function speedText(s: SpeedComparison): string {
  const times = (r: number): string => `${r.toFixed(2)}x`;
  if (s.verdict === 'faster') return `The candidate is ${times(1 / s.ratio)} faster per batch than the baseline.`;
  if (s.verdict === 'unchanged') return 'The candidate runs as fast as the baseline (within 5%).';
  return `The candidate is ${times(s.ratio)} slower per batch than the baseline${s.why ? `: ${s.why}` : '.'}`;
}
