/**
 * The WebAssembly statistics kernel (statsKernel.wat): one chunk of float32 values is widened
 * into its memory (`prepare`; `load` copies an array in; `widen` copies FLOAT16/BFLOAT16 codes in
 * and widens them there), then pass 1 (min, max, sum, zeros, sum of squares, per-channel ranges)
 * and pass 2 (histogram, near-zeros) run on that copy. Exact to the same bin and the same counts as the
 * JavaScript code it replaces; values that are NaN or Inf are left to that code.
 */
import kernelBytes from './statsKernel.wat';
import type { Histogram } from '../histogram';
import { threadKernel } from './kernelPool';
import { DataType } from '../../core/onnx/dataTypes';
import { copyBytes } from '../../core/bytes';
import { widen16On, type Widen16 } from './widenKernel';

interface KernelExports {
  memory: WebAssembly.Memory;
  pass1(data: number, n: number, out: number): void;
  pass2(data: number, n: number, edges: number, bins: number, counts: number, first: number, scale: number, near: number, certain: number, out: number, scratch: number): void;
  ranges(data: number, n: number, inner: number, size: number, channel: number, left: number, lows: number, highs: number): void;
}

export interface FirstPass {
  min: number;
  max: number;
  sum: number;
  zeros: number;
  /** Sum of x^2 (each square exact in float64). */
  squares: number;
}

// Memory layout: results, then the histogram's edges, counts and scratch list (fixed for a bin
// count, so their views are made once), then the chunk of values.
const OUT = 0; // 64 bytes of results
const EDGES = 64;
const PAGE = 65536;
const LANES = 4;
const SCRATCH_BYTES = 4096; // pass 2's list of bins for a block of 1024 values

export class StatsKernel {
  private readonly exports: KernelExports;
  private readonly widen16: Widen16;
  private loaded = 0;
  private bins = -1;
  private countsAt = 0;
  private scratchAt = 0;
  private dataAt = 0;
  private views: { buffer: ArrayBuffer; out: Float64Array; edges: Float32Array; counts: Uint32Array } | null = null;
  /** Bumped by every load, so a caller can tell whether its chunk is still in memory. */
  generation = 0;

  constructor() {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(kernelBytes));
    this.exports = instance.exports as unknown as KernelExports;
    this.widen16 = widen16On(this.exports.memory);
  }

  /**
   * Room for `count` values and a histogram of `bins` bins: the returned view is where the next
   * chunk goes. It stays valid until the next call (`generation` tells).
   */
  prepare(count: number, bins: number, channels = 0): Float32Array {
    if (bins !== this.bins) {
      this.bins = bins;
      this.countsAt = EDGES + align16((bins + 1) * 4);
      this.scratchAt = this.countsAt + (bins + 1) * LANES * 4; // one more row: the unsure values' placeholder counts
      this.dataAt = this.scratchAt + SCRATCH_BYTES;
      this.views = null;
    }
    // room after the chunk for the channel ranges (quantKernel grows the memory for its own)
    const needed = this.dataAt + count * 4 + (channels > 0 ? 16 + 8 * channels + 32 : 0);
    const memory = this.exports.memory;
    if (needed > memory.buffer.byteLength) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE));
    this.loaded = count;
    this.generation++;
    return new Float32Array(memory.buffer, this.dataAt, count);
  }

  /**
   * Elements [first, first + count) of FLOAT16 or BFLOAT16 raw bytes widened in the kernel's
   * memory (the codes copied to the upper half of the chunk's room, widened down in place), as
   * `prepare` would hold them; undefined for other types.
   */
  widen(dataType: number, raw: Uint8Array, first: number, count: number, bins: number, channels = 0): Float32Array | undefined {
    if (dataType !== DataType.Float16 && dataType !== DataType.BFloat16) return undefined;
    const view = this.prepare(count, bins, channels);
    const codesAt = this.dataAt + 2 * count;
    copyBytes(new Uint8Array(this.exports.memory.buffer, codesAt, 2 * count), raw.subarray(first * 2, (first + count) * 2));
    this.widen16(codesAt, this.dataAt, count, dataType === DataType.BFloat16 ? 1 : 0);
    return view;
  }

  /**
   * Adds the loaded chunk's per-channel finite min and max into `lows`/`highs` (channel of
   * element i: floor(i / inner) % size; the chunk starts at element `first`). All values finite.
   */
  channelRanges(first: number, inner: number, lows: Float64Array, highs: Float64Array): void {
    const size = lows.length;
    const lowsAt = align16(this.dataAt + this.loaded * 4 + 16);
    const highsAt = lowsAt + align16(size * 4);
    const buffer = this.exports.memory.buffer;
    if (highsAt + size * 4 > buffer.byteLength) throw new Error('channel ranges: no room reserved after the chunk');
    const low = new Float32Array(buffer, lowsAt, size).fill(Infinity);
    const high = new Float32Array(buffer, highsAt, size).fill(-Infinity);
    const channel = Math.floor(first / inner) % size;
    this.exports.ranges(this.dataAt, this.loaded, inner, size, channel, inner - (first % inner), lowsAt, highsAt);
    for (let c = 0; c < size; c++) {
      if (low[c] < lows[c]) lows[c] = low[c];
      if (high[c] > highs[c]) highs[c] = high[c];
    }
  }

  /** Copies `values` in and returns the generation. */
  load(values: Float32Array, bins: number): number {
    const view = this.prepare(values.length, bins);
    view.set(values);
    return this.generation;
  }

  /** The memory the chunk is in, where it starts (bytes) and its length: for kernels that share the memory. */
  get chunk(): { memory: WebAssembly.Memory; at: number; count: number } {
    return { memory: this.exports.memory, at: this.dataAt, count: this.loaded };
  }

  /** Whether `values` is the chunk in memory now. */
  holds(values: Float32Array, generation: number): boolean {
    return generation === this.generation && values.buffer === this.exports.memory.buffer && values.byteOffset === this.dataAt;
  }

  /** Pass 1 over the loaded chunk; null when it holds NaN or Inf. */
  firstPass(): FirstPass | null {
    this.exports.pass1(this.dataAt, this.loaded, OUT);
    const out = this.currentViews().out;
    if (!Number.isFinite(out[4])) return null; // some value is NaN or Inf
    return { min: out[0], max: out[1], sum: out[2], zeros: out[3], squares: out[4] };
  }

  /**
   * Pass 2 over the loaded chunk (all finite, inside the histogram's range): bins into
   * `histogram` and returns how many |x| <= nearLimit (decided exactly in float32).
   */
  secondPass(histogram: Histogram, nearLimit: number): number {
    const { bins } = this;
    if (histogram.counts.length !== bins) throw new Error(`kernel loaded for ${bins} bins, histogram has ${histogram.counts.length}`);
    const { out, edges: edgesView, counts } = this.currentViews();
    edgesView.set(histogram.edges);
    counts.fill(0);
    const { edges, scale } = histogram;
    this.exports.pass2(this.dataAt, this.loaded, EDGES, bins, this.countsAt, edges[0], scale, float32AtMost(nearLimit), certainFraction(edges), OUT, this.scratchAt);
    const sums = histogram.counts;
    for (let k = 0; k < bins; k++) {
      const at = k * LANES;
      sums[k] += counts[at] + counts[at + 1] + counts[at + 2] + counts[at + 3];
    }
    return out[0];
  }

  /** Views of the fixed areas, made again only when the memory grew (its buffer is then new) or the bins changed. */
  private currentViews(): { out: Float64Array; edges: Float32Array; counts: Uint32Array } {
    const buffer = this.exports.memory.buffer;
    if (this.views?.buffer !== buffer) {
      this.views = {
        buffer,
        out: new Float64Array(buffer, OUT, 8),
        edges: new Float32Array(buffer, EDGES, this.bins + 1),
        counts: new Uint32Array(buffer, this.countsAt, (this.bins + 1) * LANES),
      };
    }
    return this.views;
  }
}

/**
 * How far from a whole number the float32 bin estimate (x - first) * scale must be to be trusted.
 * Its rounding errors are below bins * 2^-22; the float32 edges sit within max|edge| * 2^-24 of
 * their exact places, i.e. bins * max|edge| / (last - first) * 2^-24 bins. Twice the sum keeps a
 * margin. When that is no longer small (a narrow range far from zero), every value takes the
 * exact path (the estimate's fraction is always below 1).
 */
export function certainFraction(edges: ArrayLike<number>): number {
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
  floatScratch[0] = f;
  bitsScratch[0]--;
  return floatScratch[0];
}
const floatScratch = new Float32Array(1);
const bitsScratch = new Uint32Array(floatScratch.buffer);

/** The thread's kernel, or null where WebAssembly SIMD is not available (then JavaScript does the work). */
export const statsKernel = threadKernel(() => new StatsKernel());
