/**
 * The WebAssembly statistics kernel (statsKernel.wat): one chunk of float32 values is widened
 * into its memory (`prepare`; `load` copies an array in), then pass 1 (min, max, sum, zeros,
 * sum of squares) and pass 2 (histogram, near-zeros) run on that copy. Exact to the same bin and the same counts as the
 * JavaScript code it replaces; values that are NaN or Inf are left to that code.
 */
import kernelBytes from './statsKernel.wat';
import type { Histogram } from '../histogram';

interface KernelExports {
  memory: WebAssembly.Memory;
  pass1(data: number, n: number, out: number): void;
  pass2(data: number, n: number, edges: number, bins: number, counts: number, first: number, scale: number, near: number, certain: number, out: number, scratch: number): void;
}

export interface FirstPass {
  min: number;
  max: number;
  sum: number;
  zeros: number;
  /** Sum of x^2 (each square exact in float64). */
  squares: number;
}

const OUT = 0; // 64 bytes of results
const DATA = 64;
const PAGE = 65536;
const LANES = 4;
const SCRATCH_BYTES = 4096; // pass 2's list of bins for a block of 1024 values

export class StatsKernel {
  private readonly exports: KernelExports;
  private loaded = 0;
  private edgesAt = 0;
  private countsAt = 0;
  private scratchAt = 0;
  private bins = 0;
  /** Bumped by every load, so a caller can tell whether its chunk is still in memory. */
  generation = 0;

  constructor() {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(kernelBytes));
    this.exports = instance.exports as unknown as KernelExports;
  }

  /**
   * Room for `count` values and a histogram of `bins` bins: the returned view is where the next
   * chunk goes. It stays valid until the next call (`generation` tells).
   */
  prepare(count: number, bins: number): Float32Array {
    const dataBytes = align16(count * 4);
    this.edgesAt = DATA + dataBytes;
    this.countsAt = this.edgesAt + align16((bins + 1) * 4);
    this.scratchAt = this.countsAt + (bins + 1) * LANES * 4; // one more row: the unsure values' placeholder counts
    const needed = this.scratchAt + SCRATCH_BYTES;
    const memory = this.exports.memory;
    if (needed > memory.buffer.byteLength) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE));
    this.loaded = count;
    this.bins = bins;
    this.generation++;
    return new Float32Array(memory.buffer, DATA, count);
  }

  /** Copies `values` in and returns the generation. */
  load(values: Float32Array, bins: number): number {
    const view = this.prepare(values.length, bins);
    view.set(values);
    return this.generation;
  }

  /** Whether `values` is the chunk in memory now. */
  holds(values: Float32Array, generation: number): boolean {
    return generation === this.generation && values.buffer === this.exports.memory.buffer && values.byteOffset === DATA;
  }

  /** Pass 1 over the loaded chunk; null when it holds NaN or Inf. */
  firstPass(): FirstPass | null {
    this.exports.pass1(DATA, this.loaded, OUT);
    const out = new Float64Array(this.exports.memory.buffer, OUT, 6);
    if (out[4] > 0) return null;
    return { min: out[0], max: out[1], sum: out[2], zeros: out[3], squares: out[5] };
  }

  /**
   * Pass 2 over the loaded chunk (all finite, inside the histogram's range): bins into
   * `histogram` and returns how many |x| <= nearLimit (decided exactly in float32).
   */
  secondPass(histogram: Histogram, nearLimit: number): number {
    const { bins } = this;
    if (histogram.counts.length !== bins) throw new Error(`kernel loaded for ${bins} bins, histogram has ${histogram.counts.length}`);
    const buffer = this.exports.memory.buffer;
    new Float32Array(buffer, this.edgesAt, bins + 1).set(histogram.edges);
    const counts = new Uint32Array(buffer, this.countsAt, (bins + 1) * LANES);
    counts.fill(0);
    const { edges, scale } = histogram;
    this.exports.pass2(DATA, this.loaded, this.edgesAt, bins, this.countsAt, edges[0], scale, float32AtMost(nearLimit), certainFraction(edges), OUT, this.scratchAt);
    for (let k = 0; k < bins; k++) {
      const at = k * LANES;
      histogram.counts[k] += counts[at] + counts[at + 1] + counts[at + 2] + counts[at + 3];
    }
    return new Float64Array(buffer, OUT, 1)[0];
  }
}

/**
 * How far from a whole number the float32 bin estimate (x - first) * scale must be to be trusted.
 * Its rounding errors are below bins * 2^-22; the float32 edges sit within max|edge| * 2^-24 of
 * their exact places, i.e. bins * max|edge| / (last - first) * 2^-24 bins. Twice the sum keeps a
 * margin. When that is no longer small (a narrow range far from zero), every value takes the
 * exact path (the estimate's fraction is always below 1).
 */
export function certainFraction(edges: Float32Array): number {
  const bins = edges.length - 1;
  const first = edges[0];
  const last = edges[bins];
  const maxEdge = Math.max(Math.abs(first), Math.abs(last));
  const bound = 2 * (bins * 2 ** -22 + ((bins * maxEdge) / (last - first)) * 2 ** -24);
  return bound < 0.25 ? bound : 1;
}

function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

/** The largest float32 not above x (x >= 0), so a float32 comparison decides |v| <= x exactly. */
export function float32AtMost(x: number): number {
  const f = Math.fround(x);
  if (f <= x) return f;
  const bits = new Uint32Array(new Float32Array([f]).buffer);
  bits[0]--;
  return new Float32Array(bits.buffer)[0];
}

let shared: StatsKernel | null | undefined;

/** The thread's kernel, or null where WebAssembly SIMD is not available (then JavaScript does the work). */
export function statsKernel(): StatsKernel | null {
  if (shared === undefined) {
    try {
      shared = new StatsKernel();
    } catch {
      shared = null;
    }
  }
  return shared;
}
