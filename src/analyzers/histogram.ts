/**
 * Equal-width histograms that bin exactly as numpy.histogram does on float32 data: the edges
 * are numpy's linspace(min, max, bins + 1) rounded to float32, a value's bin is first estimated
 * arithmetically and then corrected against the actual edges, and the maximum falls in the last
 * bin. So counts match numpy's to the element, not merely approximately.
 */

export interface HistogramSpec {
  readonly min: number;
  readonly max: number;
  readonly bins: number;
}

// Plain arrays, not typed ones: a histogram is made per tensor, and a small typed array costs a
// separately allocated backing store (measured: a quarter of the statistics' JavaScript time).
export class Histogram {
  readonly counts: number[];
  /** Bin edges rounded to float32, bins + 1 of them. */
  readonly edges: number[];
  /** bins per unit of value, for the first estimate of a bin. */
  readonly scale: number;

  constructor(readonly spec: HistogramSpec) {
    const { min, max, bins } = spec;
    this.counts = new Array<number>(bins).fill(0);
    this.edges = new Array<number>(bins + 1);
    let lo = min;
    let hi = max;
    // numpy widens a zero-width range to [min - 0.5, max + 0.5].
    if (lo === hi) {
      lo -= 0.5;
      hi += 0.5;
    }
    const step = (hi - lo) / bins;
    for (let k = 0; k < bins; k++) this.edges[k] = Math.fround(k * step + lo);
    this.edges[bins] = Math.fround(hi);
    this.scale = bins / (this.edges[bins] - this.edges[0]);
  }

  /** Adds finite values; values outside [min, max] are ignored (as numpy does with a range). */
  add(values: Float32Array): void {
    const { counts, edges, scale } = this;
    const bins = counts.length;
    const first = edges[0];
    const last = edges[bins];
    for (let i = 0; i < values.length; i++) {
      const x = values[i];
      if (!(x >= first && x <= last)) continue; // also skips NaN
      let k = Math.floor((x - first) * scale);
      if (k >= bins) k = bins - 1;
      if (x < edges[k]) k--;
      else if (k < bins - 1 && x >= edges[k + 1]) k++;
      counts[k]++;
    }
  }
}
