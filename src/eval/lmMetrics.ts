/**
 * Language-model metrics over batches of logits [samples, seq, vocab] and their token ids:
 * perplexity of the shifted next-token cross entropy (position t predicts token t + 1; positions
 * whose target is masked out or labelled -100 do not count), next-token top-1 agreement with the
 * baseline, and the mean KL(baseline ‖ candidate) of the next-token distributions. Per-window
 * losses are kept (a few numbers each) for a bootstrap interval of the perplexity change.
 */
import { seededRandom } from '../core/random';

export interface LmBatch {
  /** Logits [samples, seq, vocab]. */
  readonly logits: Float32Array;
  readonly samples: number;
  readonly seq: number;
  readonly vocab: number;
}

export interface LmResult {
  /** The output read as logits. */
  readonly output?: string;
  /** Why the model was scored as a language model without --task lm (its graph). */
  readonly why?: string;
  /** Predicted tokens counted. */
  readonly tokens: number;
  readonly baseline?: { readonly perplexity: number; readonly meanNll: number };
  readonly candidate: { readonly perplexity: number; readonly meanNll: number };
  /** Share of positions where both models' most likely next token is the same. */
  readonly agreement?: number;
  readonly klDivergence?: number;
  /** Candidate perplexity minus baseline's, with a 95% interval from a bootstrap over windows. */
  readonly perplexityDelta?: { readonly value: number; readonly ci95: [number, number] };
  /** Per window, in data order: sums over its predicted tokens (for paired comparisons of candidates). */
  readonly windows?: readonly LmWindow[];
}

/** One window's sums: tokens, negative log-likelihoods, KL to the baseline, top-1 agreements. */
export interface LmWindow {
  readonly tokens: number;
  readonly baselineNll: number;
  readonly candidateNll: number;
  readonly kl: number;
  readonly agree: number;
}

/** log Σ exp(row), and the row's argmax. */
function logSumExp(row: Float32Array): { lse: number; best: number } {
  let max = -Infinity;
  let best = 0;
  for (let i = 0; i < row.length; i++) {
    if (row[i] > max) {
      max = row[i];
      best = i;
    }
  }
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i] - max);
  return { lse: max + Math.log(sum), best };
}

/** KL(softmax(p) ‖ softmax(q)) from the logits and their log-sum-exps. */
function kl(p: Float32Array, q: Float32Array, lseP: number, lseQ: number): number {
  let out = 0;
  for (let i = 0; i < p.length; i++) {
    const lp = p[i] - lseP;
    out += Math.exp(lp) * (lp - (q[i] - lseQ));
  }
  return Math.max(0, out);
}

export class LanguageModelMetrics {
  private tokens = 0;
  private nllBase = 0;
  private nllCand = 0;
  private agree = 0;
  private klSum = 0;
  private readonly windows: LmWindow[] = [];

  /**
   * One batch: `targets[s · seq + t]` is the token at position t of sample s (already the label
   * when labels were given); `valid` says which targets count (attention mask, labels ≠ -100).
   */
  add(candidate: LmBatch, baseline: LmBatch | undefined, targets: ArrayLike<number>, valid?: (index: number) => boolean): void {
    const { samples, seq, vocab } = candidate;
    for (let s = 0; s < samples; s++) {
      let n = 0;
      let base = 0;
      let cand = 0;
      let klSum = 0;
      let agree = 0;
      for (let t = 0; t + 1 < seq; t++) {
        const target = s * seq + t + 1;
        if (valid && !valid(target)) continue;
        const label = targets[target];
        if (!(label >= 0 && label < vocab)) continue;
        const at = (s * seq + t) * vocab;
        const c = candidate.logits.subarray(at, at + vocab);
        const lc = logSumExp(c);
        cand += lc.lse - c[label];
        if (baseline) {
          const b = baseline.logits.subarray(at, at + vocab);
          const lb = logSumExp(b);
          base += lb.lse - b[label];
          if (lb.best === lc.best) agree++;
          klSum += kl(b, c, lb.lse, lc.lse);
        }
        n++;
      }
      this.tokens += n;
      this.nllBase += base;
      this.nllCand += cand;
      this.agree += agree;
      this.klSum += klSum;
      this.windows.push({ tokens: n, baselineNll: base, candidateNll: cand, kl: klSum, agree });
    }
  }

  result(withBaseline: boolean): LmResult {
    const n = Math.max(1, this.tokens);
    const run = (nll: number) => ({ perplexity: Math.exp(nll / n), meanNll: nll / n });
    if (!withBaseline) return { tokens: this.tokens, candidate: run(this.nllCand) };
    return {
      tokens: this.tokens,
      baseline: run(this.nllBase),
      candidate: run(this.nllCand),
      agreement: this.agree / n,
      klDivergence: this.klSum / n,
      perplexityDelta: { value: Math.exp(this.nllCand / n) - Math.exp(this.nllBase / n), ci95: this.bootstrap() },
      windows: this.windows,
    };
  }

  /** 95% interval of the perplexity change, resampling whole windows (1,000 draws, seeded). */
  private bootstrap(): [number, number] {
    const w = this.windows;
    if (w.length < 2) return [NaN, NaN];
    const random = seededRandom(1);
    const draws: number[] = [];
    for (let d = 0; d < 1000; d++) {
      let n = 0;
      let b = 0;
      let c = 0;
      for (let i = 0; i < w.length; i++) {
        const drawn = w[Math.floor(random() * w.length)];
        n += drawn.tokens;
        b += drawn.baselineNll;
        c += drawn.candidateNll;
      }
      draws.push(n ? Math.exp(c / n) - Math.exp(b / n) : 0);
    }
    draws.sort((a, b) => a - b);
    return [draws[24], draws[974]];
  }
}
