/**
 * Round-to-nearest quantization of weights held as float32 in WebAssembly (quantizeKernel.wat):
 * group ranges, then codes and the change's error figures and histograms in one pass, for the
 * weight layouts of quantizeMath.ts (per tensor, per channel on any axis, blocks on any axis);
 * FLOAT16 and BFLOAT16 weights with their restored values rounded to their type. The JavaScript
 * in quantizeMath.ts is the reference; results are the same but, for FLOAT weights, the order
 * of the float64 energy sums (FLOAT16 and BFLOAT16 weights keep the reference's order too).
 */
import kernelBytes from './quantizeKernel.wat';
import { kernelsEnabled } from '../../analyzers/wasm/kernelSwitch';
import { widen16On, type Widen16 } from '../../analyzers/wasm/widenKernel';
import { DataType } from '../../core/onnx/dataTypes';
import { copyBytes } from '../../core/bytes';
import type { ErrorSums } from '../transform';

interface KernelExports {
  quant(
    px: number, pc: number, rows: number, len: number, ps: number, pz: number, rowStep: number, elemStep: number,
    qmin: number, qmax: number, acc: number, hmin: number, hscale: number, bins: number, round: number,
  ): void;
  narrowAll(p: number, n: number, round: number): void;
  ranges(px: number, rows: number, len: number, plo: number, phi: number, rowStep: number, elemStep: number): number;
}

/** How the weights, seen as [outer, size, inner] around the quantization axis, map to groups. */
export interface GroupGeometry {
  readonly granularity: 'per-tensor' | 'per-channel' | 'block';
  readonly size: number;
  readonly inner: number;
  readonly blockSize: number;
}

/** Rows of `len` weights from weight `at`, their groups from `group` on (the next row's `rowStep` groups on; `perWeight`: a group per weight). */
interface Run {
  readonly at: number;
  readonly rows: number;
  readonly len: number;
  readonly group: number;
  readonly rowStep: number;
  readonly perWeight: boolean;
}

/** The runs covering `n` weights, few and long, in weight order. */
export function runsOf(n: number, g: GroupGeometry): Run[] {
  if (n === 0) return [];
  if (g.granularity === 'per-tensor') return [{ at: 0, rows: 1, len: n, group: 0, rowStep: 0, perWeight: false }];
  const { size, inner, blockSize } = g;
  const outer = n / (size * inner);
  const runs: Run[] = [];
  if (g.granularity === 'per-channel') {
    if (inner === 1) return [{ at: 0, rows: outer, len: size, group: 0, rowStep: 0, perWeight: true }];
    for (let o = 0; o < outer; o++) runs.push({ at: o * size * inner, rows: size, len: inner, group: 0, rowStep: 1, perWeight: false });
    return runs;
  }
  const blocks = Math.ceil(size / blockSize);
  if (inner === 1) {
    // Blocks along the last axis: a run per block, all of a row's whole blocks in one call.
    const whole = Math.floor(size / blockSize);
    if (whole === blocks) return [{ at: 0, rows: outer * blocks, len: blockSize, group: 0, rowStep: 1, perWeight: false }];
    for (let o = 0; o < outer; o++) {
      if (whole) runs.push({ at: o * size, rows: whole, len: blockSize, group: o * blocks, rowStep: 1, perWeight: false });
      runs.push({ at: o * size + whole * blockSize, rows: 1, len: size - whole * blockSize, group: o * blocks + whole, rowStep: 0, perWeight: false });
    }
    return runs;
  }
  // Blocks along an inner axis: the rows of one block share a row of groups, a group per weight.
  for (let o = 0; o < outer; o++) {
    for (let b = 0; b < blocks; b++) {
      const rows = Math.min(blockSize, size - b * blockSize);
      runs.push({ at: (o * size + b * blockSize) * inner, rows, len: inner, group: (o * blocks + b) * inner, rowStep: 0, perWeight: true });
    }
  }
  return runs;
}

const ACC = 0;
/**
 * Four copies of the old values' histogram, four of the new ones' (each HIST_BINS + 1 int32
 * counts in COPY_COUNTS slots: the kernel does not cap a bin, a value at the top lands one past
 * the last), then 32 bytes of scratch.
 */
const BINS = 128;
const COPIES = 4;
const DATA = 4096;
const HIST_BINS = 64;
const COPY_COUNTS = 68;
const PAGE = 65536;
/**
 * The thread's kernel keeps its memory between calls (a fresh memory per tensor is a page fault
 * on every page, and garbage), up to this size: a larger tensor's memory is let go after it.
 */
const KEPT_BYTES = 128 * 2 ** 20;

interface Instance {
  readonly exports: KernelExports;
  readonly memory: WebAssembly.Memory;
}

let compiled: WebAssembly.Module | undefined;
let kept: Instance | undefined;

function instance(pages: number): Instance {
  compiled ??= new WebAssembly.Module(kernelBytes);
  const memory = new WebAssembly.Memory({ initial: pages });
  return { exports: new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as KernelExports, memory };
}

function grown(k: Instance, bytes: number): Instance {
  const pages = Math.ceil(bytes / PAGE);
  const have = k.memory.buffer.byteLength / PAGE;
  if (pages > have) k.memory.grow(pages - have);
  return k;
}

/** The thread's kernel, its memory grown to at least `bytes`. */
function kernelFor(bytes: number): Instance {
  kept ??= instance(Math.ceil(bytes / PAGE));
  return grown(kept, bytes);
}

/** Where a tensor of `n` weights in `groups` groups lies in a kernel's memory: weights, codes, scales, zero points. */
function layoutOf(n: number, groups: number): { px: number; pc: number; ps: number; pz: number; end: number } {
  const px = DATA;
  const pc = align(px + 4 * n);
  const ps = align(pc + n);
  const pz = align(ps + 4 * groups + 16);
  return { px, pc, ps, pz, end: align(pz + 4 * groups + 16) };
}

/**
 * A second kernel, whose memory the quantize transform reads a weight straight into (no copy
 * into the kernel then, and no array of its own to fill). One holder at a time, so a step
 * awaiting between layers never shares it: anyone else gets nothing and uses an array of theirs.
 */
let leased: Instance | undefined;
let leaseHeld = false;
let widener: { memory: WebAssembly.Memory; widen16: Widen16 } | undefined;

/** The widening instance on the leased kernel's memory (a new one when that memory is new). */
function widenerOf(memory: WebAssembly.Memory): Widen16 {
  if (widener?.memory !== memory) widener = { memory, widen16: widen16On(memory) };
  return widener.widen16;
}
const LEASE_KEPT_BYTES = 32 * 2 ** 20;

export interface WeightLease {
  /** `n` floats in the leased kernel's memory, where kernelQuantize expects a tensor's weights. */
  readonly values: Float32Array;
  /** `values` widened from `n` FLOAT16 or BFLOAT16 codes (raw little-endian bytes); undefined for another type. */
  widen(dataType: number, raw: Uint8Array): Float32Array | undefined;
  release(): void;
}

/** Room for `n` weights inside the leased kernel's memory; undefined when it is held, too large, or no kernel runs here. */
export function leaseWeights(n: number): WeightLease | undefined {
  // Room for a group per weight, so kernelQuantize never grows this memory (that would detach `values`).
  const { end } = layoutOf(n, Math.max(n, 1));
  if (leaseHeld || !quantizeKernelAvailable() || end > KEPT_BYTES) return undefined;
  leased = grown(leased ?? instance(Math.ceil(end / PAGE)), end);
  leaseHeld = true;
  let held = true;
  const memory = leased.memory;
  const values = new Float32Array(memory.buffer, DATA, n);
  return {
    values,
    widen: (dataType, raw) => {
      if ((dataType !== DataType.Float16 && dataType !== DataType.BFloat16) || raw.length !== 2 * n) return undefined;
      // The codes in the upper half of the values' room, widened down in place.
      copyBytes(new Uint8Array(memory.buffer, DATA + 2 * n, 2 * n), raw);
      widenerOf(memory)(DATA + 2 * n, DATA, n, dataType === DataType.BFloat16 ? 1 : 0);
      return values;
    },
    release: () => {
      if (!held) return;
      leaseHeld = held = false;
      // Past a tensor of a few million weights the memory goes with its lease, as an array would.
      if (leased && leased.memory.buffer.byteLength > LEASE_KEPT_BYTES) leased = undefined;
    },
  };
}

/** Whether the kernel can run here (WebAssembly SIMD) and is switched on. */
export function quantizeKernelAvailable(): boolean {
  return kernelsEnabled() && simd;
}

const simd = (() => {
  try {
    return WebAssembly.validate(kernelBytes);
  } catch {
    return false;
  }
})();

const align = (n: number): number => Math.ceil(n / 16) * 16;

export interface KernelRanges {
  readonly lo: Float64Array;
  readonly hi: Float64Array;
}

/** Scales and zero points fitted to the ranges, and the value a weight `x` of group `g` comes back as with them. */
export interface KernelFit {
  readonly scales: Float32Array;
  readonly zeroPoints: Int32Array;
  restored(x: number, g: number): number;
}

/** Codes (signed bytes for a signed range), with the change's sums (histograms on HIST_BINS bins; none when min > max). */
export interface KernelQuantized extends ErrorSums {
  readonly codes: Int8Array | Uint8Array;
}

/** What the restored values are rounded to: the weight's type (float32 itself needs nothing more). */
export type KernelRounding = 'float32' | 'float16' | 'bfloat16';
const ROUNDING: Record<KernelRounding, number> = { float32: 0, float16: 1, bfloat16: 2 };

/**
 * One weight tensor through the kernel: `fit` turns the groups' ranges (lo ≤ 0 ≤ hi) into
 * scales and zero points, which then quantize every weight; restored values (`fit`'s too) are
 * rounded to `rounding`. Undefined when a weight is NaN or infinite (found by the ranges pass;
 * nothing is quantized then), or a restored one is infinite.
 */
export function kernelQuantize(
  values: Float32Array, groups: number, geometry: GroupGeometry, qmin: number, qmax: number, rounding: KernelRounding,
  fit: (r: KernelRanges) => KernelFit,
): ({ scales: Float32Array; zeroPoints: Int32Array } & KernelQuantized) | undefined {
  const n = values.length;
  const { px, pc, ps, pz, end } = layoutOf(n, groups);
  // Weights read into a lease are in place already.
  const inPlace = leased !== undefined && values.buffer === leased.memory.buffer && values.byteOffset === px && end <= values.buffer.byteLength;
  const { exports: k, memory } = inPlace ? leased! : kernelFor(end);
  if (!inPlace && memory.buffer.byteLength > KEPT_BYTES) kept = undefined; // gone with this call
  const f32 = new Float32Array(memory.buffer);
  if (!inPlace) f32.set(values, px / 4);
  // Each group's true range, in the scale and zero-point slots.
  f32.fill(Infinity, ps / 4, ps / 4 + groups);
  f32.fill(-Infinity, pz / 4, pz / 4 + groups);
  const runs = runsOf(n, geometry);
  let nonFinite = 0;
  for (const r of runs) nonFinite |= k.ranges(px + 4 * r.at, r.rows, r.len, ps + 4 * r.group, pz + 4 * r.group, 4 * r.rowStep, r.perWeight ? 4 : 0);
  if (nonFinite) return undefined;
  // Plain loops: Float64Array.from and map over typed arrays take V8's slow generic path.
  const lo = new Float64Array(groups);
  const hi = new Float64Array(groups);
  const fitLo = new Float64Array(groups);
  const fitHi = new Float64Array(groups);
  for (let g = 0, l = ps / 4, h = pz / 4; g < groups; g++) {
    lo[g] = f32[l + g];
    hi[g] = f32[h + g];
    // Zero is in every range the fit sees (as 0, never -0, like the reference's).
    fitLo[g] = lo[g] < 0 ? lo[g] : 0;
    fitHi[g] = hi[g] > 0 ? hi[g] : 0;
  }
  const fitted = fit({ lo: fitLo, hi: fitHi });
  const { scales, zeroPoints } = fitted;
  // The range of the old and new values, for the histograms, before the pass that counts them: a
  // group's new values rise with its old ones, so its least and greatest come from its range's ends.
  let min = Infinity;
  let max = -Infinity;
  for (let g = 0; g < groups; g++) {
    if (!(lo[g] <= hi[g])) continue; // no weights
    min = Math.min(min, lo[g], fitted.restored(lo[g], g));
    max = Math.max(max, hi[g], fitted.restored(hi[g], g));
  }
  // +0 turns a -0 into 0, as the JavaScript's comparisons leave it.
  min += 0;
  max += 0;
  // A restored value FLOAT16 cannot hold (an infinity): no histogram range; the caller's JavaScript does it.
  if (!(max - min < Infinity)) return undefined;
  f32.set(scales, ps / 4);
  f32.set(Float32Array.from(zeroPoints), pz / 4);
  new Float64Array(memory.buffer, ACC, 8).fill(0);
  new Int32Array(memory.buffer, BINS, 2 * COPIES * COPY_COUNTS).fill(0);
  const scale = max > min ? HIST_BINS / (max - min) : 0;
  for (const r of runs) {
    k.quant(px + 4 * r.at, pc + r.at, r.rows, r.len, ps + 4 * r.group, pz + 4 * r.group, 4 * r.rowStep, r.perWeight ? 4 : 0, qmin, qmax, ACC, min, scale, BINS, ROUNDING[rounding]);
  }
  const sums = new Float64Array(memory.buffer, ACC, 8);
  const bins = new Int32Array(memory.buffer, BINS, 2 * COPIES * COPY_COUNTS);
  const counted = (from: number): number[] => {
    const out = new Array<number>(HIST_BINS).fill(0);
    for (let c = from; c < from + COPIES * COPY_COUNTS; c += COPY_COUNTS) {
      for (let b = 0; b < HIST_BINS; b++) out[b] += bins[c + b];
      out[HIST_BINS - 1] += bins[c + HIST_BINS];
    }
    return out;
  };
  return {
    scales, zeroPoints,
    signal: sums[0] + sums[1], noise: sums[2] + sums[3], maxError: Math.max(sums[4], sums[5], -sums[6], -sums[7]),
    min, max, before: n ? counted(0) : [], after: n ? counted(COPIES * COPY_COUNTS) : [],
    // A copy: the next call overwrites the memory.
    codes: (qmin < 0 ? new Int8Array(memory.buffer, pc, n) : new Uint8Array(memory.buffer, pc, n)).slice(),
  };
}

export const KERNEL_HIST_BINS = HIST_BINS;

/** `values` rounded in place to FLOAT16 or BFLOAT16 and back by the kernel's own rounding (for its tests). */
export function kernelNarrow(values: Float32Array, rounding: Exclude<KernelRounding, 'float32'>): void {
  const chunk = 1 << 20;
  const { exports: k, memory } = kernelFor(DATA + 4 * Math.min(values.length, chunk));
  for (let at = 0; at < values.length; at += chunk) {
    const part = values.subarray(at, at + chunk);
    const view = new Float32Array(memory.buffer, DATA, part.length);
    view.set(part);
    k.narrowAll(DATA, part.length, ROUNDING[rounding]);
    part.set(view);
  }
}
