/**
 * Comparing a candidate model with its baseline, sample by sample, as batches arrive: accuracy
 * (top-1/top-5 against labels), top-1 agreement, and per output max/mean absolute error, SQNR,
 * cosine similarity and the KL divergence of the softmax outputs (teacher = baseline). The
 * accuracy difference gets a 95% interval from a paired bootstrap and McNemar's exact test.
 */
import { seededRandom } from '../core/random';
import { OnnxError } from '../core/errors';

export interface OutputComparison {
  readonly name: string;
  readonly maxAbsError: number;
  readonly meanAbsError: number;
  /** null when the outputs are identical. */
  readonly sqnrDb: number | null;
  readonly cosine: number;
  /** Mean over rows (samples × positions) of KL(softmax(baseline) ‖ softmax(candidate)) along the last axis; rows that already are distributions are used as they are. */
  readonly klDivergence: number;
}

/** A batch of one output: `samples` samples, each made of rows of `classes` values (the last axis). */
export interface OutputBatch {
  readonly name: string;
  readonly data: Float32Array;
  readonly samples: number;
  readonly classes: number;
}

class OutputAccumulator {
  maxAbs = 0;
  sumAbs = 0;
  count = 0;
  signal = 0;
  noise = 0;
  dot = 0;
  baseSq = 0;
  candSq = 0;
  kl = 0;
  klSamples = 0;

  add(base: Float32Array, cand: Float32Array, classes: number): void {
    for (let i = 0; i < base.length; i++) {
      const a = base[i];
      const b = cand[i];
      const d = Math.abs(a - b);
      if (d > this.maxAbs) this.maxAbs = d;
      this.sumAbs += d;
      this.signal += a * a;
      this.noise += (a - b) * (a - b);
      this.dot += a * b;
      this.baseSq += a * a;
      this.candSq += b * b;
    }
    this.count += base.length;
    const rows = base.length / classes;
    for (let r = 0; r < rows; r++) {
      this.kl += klDivergence(base.subarray(r * classes, (r + 1) * classes), cand.subarray(r * classes, (r + 1) * classes));
      this.klSamples++;
    }
  }

  result(name: string): OutputComparison {
    return {
      name,
      maxAbsError: this.maxAbs,
      meanAbsError: this.count ? this.sumAbs / this.count : 0,
      sqnrDb: this.noise === 0 ? null : 10 * Math.log10(this.signal / this.noise),
      cosine: this.baseSq && this.candSq ? this.dot / Math.sqrt(this.baseSq * this.candSq) : this.baseSq === this.candSq ? 1 : 0,
      klDivergence: this.klSamples ? this.kl / this.klSamples : 0,
    };
  }
}

function isDistribution(v: Float32Array): boolean {
  let sum = 0;
  for (const x of v) {
    if (!(x >= 0 && x <= 1)) return false;
    sum += x;
  }
  return Math.abs(sum - 1) < 1e-3;
}

function softmax(v: Float32Array): Float64Array {
  let max = -Infinity;
  for (const x of v) if (x > max) max = x;
  const out = Float64Array.from(v, (x) => Math.exp(x - max));
  let sum = 0;
  for (const x of out) sum += x;
  return out.map((x) => x / sum);
}

/** KL(P‖Q) of two score vectors, each made a distribution by softmax unless it already is one. */
export function klDivergence(p: Float32Array, q: Float32Array): number {
  const both = isDistribution(p) && isDistribution(q);
  const pp = both ? Float64Array.from(p) : softmax(p);
  const qq = both ? Float64Array.from(q) : softmax(q);
  let kl = 0;
  for (let i = 0; i < pp.length; i++) if (pp[i] > 0) kl += pp[i] * Math.log(pp[i] / Math.max(qq[i], 1e-30));
  return kl;
}

function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

function inTopK(v: Float32Array, label: number, k: number): boolean {
  const x = v[label];
  let above = 0;
  for (let i = 0; i < v.length; i++) if (v[i] > x || (v[i] === x && i < label)) above++;
  return above < k;
}

export interface AccuracyDelta {
  /** Candidate accuracy minus baseline accuracy. */
  readonly value: number;
  readonly ci95: [number, number];
  /** Samples the baseline got right and the candidate wrong, and the reverse. */
  readonly discordant: [number, number];
  /** McNemar's exact two-sided p-value: small means the difference is not noise. */
  readonly pValue: number;
}

/** Two-sided exact binomial test of b successes in b + c trials at p = 1/2. */
export function mcnemarExact(b: number, c: number): number {
  const n = b + c;
  if (n === 0) return 1;
  const k = Math.min(b, c);
  // log C(n, i) summed in log space for large n.
  let logC = 0;
  let tail = 0;
  for (let i = 0; i <= k; i++) {
    if (i > 0) logC += Math.log(n - i + 1) - Math.log(i);
    tail += Math.exp(logC - n * Math.LN2);
  }
  return Math.min(1, 2 * tail);
}

/** Paired bootstrap of the accuracy difference (1,000 resamples, seeded). */
export function bootstrapDelta(baseCorrect: Uint8Array, candCorrect: Uint8Array, resamples = 1000, seed = 1): [number, number] {
  const n = baseCorrect.length;
  if (n === 0) return [0, 0];
  const random = seededRandom(seed); // seeded: the same interval on every run
  const deltas = new Float64Array(resamples);
  for (let r = 0; r < resamples; r++) {
    let d = 0;
    for (let i = 0; i < n; i++) {
      const j = Math.floor(random() * n);
      d += candCorrect[j] - baseCorrect[j];
    }
    deltas[r] = d / n;
  }
  deltas.sort();
  return [deltas[Math.floor(0.025 * (resamples - 1))], deltas[Math.ceil(0.975 * (resamples - 1))]];
}

/** The k of the top-k accuracy; it is given only for outputs of more classes than k. */
const TOP_K = 5;

export interface ComparisonResult {
  readonly samples: number;
  readonly baselineAccuracy?: number;
  /** Absent for 5 classes or fewer. */
  readonly baselineTop5?: number;
  readonly candidateAccuracy?: number;
  readonly candidateTop5?: number;
  readonly agreement: number;
  readonly accuracyDelta?: AccuracyDelta;
  readonly outputs: OutputComparison[];
}

/** Accumulates the comparison batch by batch. The first output is the one scored for accuracy and agreement. */
export class Comparison {
  private readonly outputs = new Map<string, OutputAccumulator>();
  private samples = 0;
  private rows = 0;
  private agree = 0;
  private readonly baseCorrect: number[] = [];
  private readonly candCorrect: number[] = [];
  private baseTop5 = 0;
  private candTop5 = 0;
  /** Classes of the scored output: top-5 of 5 classes or fewer is every sample, so it is not given. */
  private classes = 0;

  /**
   * One batch of both models' outputs (same order), with labels when known. Without a baseline,
   * pass `cand` as `base`: only accuracy is scored. Agreement counts rows (positions of a
   * sequence output); accuracy needs one row per sample (a classifier's [batch, classes]).
   */
  add(base: readonly OutputBatch[], cand: readonly OutputBatch[], labels?: ArrayLike<number>): void {
    const compare = base !== cand;
    if (compare) {
      base.forEach((b, i) => {
        let acc = this.outputs.get(b.name);
        if (!acc) this.outputs.set(b.name, (acc = new OutputAccumulator()));
        acc.add(b.data, cand[i].data, b.classes);
      });
    }
    const b = base[0];
    const c = cand[0];
    const classes = b.classes;
    const rowsPerSample = b.data.length / b.samples / classes;
    if (compare) {
      for (let r = 0; r < b.data.length / classes; r++) {
        if (argmax(b.data.subarray(r * classes, (r + 1) * classes)) === argmax(c.data.subarray(r * classes, (r + 1) * classes))) this.agree++;
      }
      this.rows += b.data.length / classes;
    }
    if (labels && rowsPerSample === 1) {
      this.classes = classes;
      for (let s = 0; s < b.samples; s++) {
        const bv = b.data.subarray(s * classes, (s + 1) * classes);
        const cv = c.data.subarray(s * classes, (s + 1) * classes);
        const label = labels[s];
        // A label past the scores would read as top-5 every time.
        if (!(label >= 0 && label < classes)) throw new OnnxError('shape-mismatch', `label ${label} is outside the model's ${classes} classes (0 to ${classes - 1})`, 'labels');
        this.baseCorrect.push(argmax(bv) === label ? 1 : 0);
        this.candCorrect.push(argmax(cv) === label ? 1 : 0);
        if (inTopK(bv, label, TOP_K)) this.baseTop5++;
        if (inTopK(cv, label, TOP_K)) this.candTop5++;
      }
    }
    this.samples += b.samples;
  }

  result(): ComparisonResult {
    const n = this.samples;
    const outputs = [...this.outputs].map(([name, acc]) => acc.result(name));
    const agreement = this.rows ? this.agree / this.rows : 1;
    if (this.baseCorrect.length === 0) return { samples: n, agreement, outputs };
    const base = Uint8Array.from(this.baseCorrect);
    const cand = Uint8Array.from(this.candCorrect);
    const sum = (a: Uint8Array) => a.reduce((x, y) => x + y, 0);
    let lost = 0;
    let gained = 0;
    for (let i = 0; i < base.length; i++) {
      if (base[i] && !cand[i]) lost++;
      if (!base[i] && cand[i]) gained++;
    }
    const top5 = this.classes > TOP_K;
    return {
      samples: n,
      baselineAccuracy: sum(base) / n,
      ...(top5 ? { baselineTop5: this.baseTop5 / n } : {}),
      candidateAccuracy: sum(cand) / n,
      ...(top5 ? { candidateTop5: this.candTop5 / n } : {}),
      agreement,
      accuracyDelta: { value: (sum(cand) - sum(base)) / n, ci95: bootstrapDelta(base, cand), discordant: [lost, gained], pValue: mcnemarExact(lost, gained) },
      outputs,
    };
  }
}

/** Median and 90th percentile of a list of times. */
export function latencySummary(ms: readonly number[]): { median: number; p90: number } {
  const sorted = [...ms].sort((a, b) => a - b);
  if (sorted.length === 0) return { median: NaN, p90: NaN };
  return { median: sorted[Math.floor((sorted.length - 1) / 2)], p90: sorted[Math.min(sorted.length - 1, Math.ceil(0.9 * sorted.length) - 1)] };
}
