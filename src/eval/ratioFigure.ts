/**
 * A figure pooled over samples as Σ numerator / Σ denominator (agreeing pixels / pixels, signal
 * energy / noise energy, edits / characters), kept per sample (two numbers each) so that its 95%
 * interval comes from a bootstrap over samples and its worst sample can be named.
 */
import { seededRandom } from '../core/random';

export type FigureScale = 'share' | 'dB' | 'value';

export interface Figure {
  /** What it measures, e.g. "IoU at 0.5", "output SQNR". */
  readonly name: string;
  readonly value: number;
  /** 95% interval from 1,000 seeded bootstrap resamples of the samples; absent with fewer than 2 samples. */
  readonly ci95?: readonly [number, number];
  readonly scale: FigureScale;
  readonly higherIsBetter: boolean;
  /** Why there was nothing to measure (the baseline's masks all empty): the value is then NaN, and no budget passes on it. */
  readonly unmeasured?: string;
}

const RESAMPLES = 1000;

export class RatioFigure {
  private readonly num: number[] = [];
  private readonly den: number[] = [];

  /**
   * `dB`: the figure is 10·log10(Σ num / Σ den) (an SQNR); otherwise the plain ratio. `empty`:
   * the value when there is nothing to count (an IoU of two empty masks is 1).
   */
  constructor(
    readonly name: string,
    readonly scale: FigureScale,
    readonly higherIsBetter: boolean,
    private readonly empty = NaN,
  ) {}

  add(numerator: number, denominator: number): void {
    this.num.push(numerator);
    this.den.push(denominator);
  }

  get samples(): number {
    return this.num.length;
  }

  private of(n: number, d: number): number {
    if (this.scale === 'dB') return d === 0 ? Infinity : 10 * Math.log10(n / d);
    return d === 0 ? NaN : n / d;
  }

  private pooled(n: number, d: number): number {
    return d === 0 && this.scale !== 'dB' ? this.empty : this.of(n, d);
  }

  value(): number {
    return this.pooled(sum(this.num), sum(this.den));
  }

  /** The sample whose own ratio is worst (lowest when higher is better), ignoring samples with nothing to count. */
  worst(): number {
    let worst = NaN;
    for (let i = 0; i < this.num.length; i++) {
      const v = this.pooled(this.num[i], this.den[i]);
      if (Number.isNaN(v)) continue;
      if (Number.isNaN(worst) || (this.higherIsBetter ? v < worst : v > worst)) worst = v;
    }
    return worst;
  }

  ci95(): [number, number] | undefined {
    const n = this.num.length;
    if (n < 2) return undefined;
    const random = seededRandom(1); // the same interval on every run
    const draws = new Float64Array(RESAMPLES);
    for (let r = 0; r < RESAMPLES; r++) {
      let a = 0;
      let b = 0;
      for (let i = 0; i < n; i++) {
        const j = Math.floor(random() * n);
        a += this.num[j];
        b += this.den[j];
      }
      draws[r] = this.pooled(a, b);
    }
    draws.sort();
    return [draws[Math.floor(0.025 * (RESAMPLES - 1))], draws[Math.ceil(0.975 * (RESAMPLES - 1))]];
  }

  figure(): Figure {
    const ci95 = this.ci95();
    return { name: this.name, value: this.value(), ...(ci95 ? { ci95 } : {}), scale: this.scale, higherIsBetter: this.higherIsBetter };
  }

  /** The worst sample as a figure of its own ("worst-image IoU at 0.5"). */
  worstFigure(name: string): Figure {
    return { name, value: this.worst(), scale: this.scale, higherIsBetter: this.higherIsBetter };
  }
}

function sum(values: readonly number[]): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}
