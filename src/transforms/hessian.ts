/**
 * The Hessian GPTQ needs, H = 2·XᵀX / n over the n rows of a layer's inputs X [n, K], gathered
 * batch by batch in one float64 [K, K] buffer (nothing else grows with the data). hessianSum()
 * sums in WebAssembly (wasm/hessianKernel.ts) where it can; HessianAccumulator here is the
 * JavaScript reference it is tested against, and what runs where WebAssembly SIMD is missing.
 */
import { kernelsEnabled } from '../analyzers/wasm/kernelSwitch';
import { KernelHessian, scaleSymmetric } from './wasm/hessianKernel';

/** A Hessian being gathered: rows go in, H = 2·XᵀX / n comes out once. */
export interface HessianSum {
  readonly k: number;
  readonly rows: number;
  add(rows: Float32Array, count: number): void;
  finish(): Float64Array;
}

/**
 * Below this K the JavaScript sums: each kernel holds ~1.1 MiB of packing buffers, a
 * depthwise Conv's many small Hessians would pay that per group, and their sums are cheap.
 */
const KERNEL_MIN_K = 128;

/** A Hessian of K inputs, summed in WebAssembly when the kernels are on and K is not small. */
export function hessianSum(k: number): HessianSum {
  if (kernelsEnabled() && k >= KERNEL_MIN_K) {
    try {
      return new KernelHessian(k);
    } catch {
      // no WebAssembly SIMD: JavaScript below
    }
  }
  return new HessianAccumulator(k);
}

/** Rows taken per pass over H: each sum is loaded and stored once per chunk, not once per row. */
const CHUNK = 64;

/** Rows [at, at + c) of X [·, K] transposed into t [K, c]: each input's values side by side. */
function transposeChunk(x: Float32Array, k: number, at: number, c: number, t: Float64Array): void {
  for (let r = 0; r < c; r++) {
    const from = (at + r) * k;
    for (let i = 0; i < k; i++) t[i * c + r] = x[from + i];
  }
}

/** Σᵣ t[p + r]·t[q + r]: the last, odd row or column. */
function dotChunk(t: Float64Array, p: number, q: number, c: number): number {
  let s = 0;
  for (let r = 0; r < c; r++) s += t[p + r] * t[q + r];
  return s;
}

/** H[i..i+1, j..j+1] += the chunk's 2×2 block of XᵀX: four independent sums over four loads. */
function addBlock(sum: Float64Array, k: number, t: Float64Array, c: number, i: number, j: number): void {
  const p0 = i * c, p1 = p0 + c, q0 = j * c, q1 = q0 + c;
  let s00 = 0, s01 = 0, s10 = 0, s11 = 0;
  for (let r = 0; r < c; r++) {
    const a0 = t[p0 + r], a1 = t[p1 + r], b0 = t[q0 + r], b1 = t[q1 + r];
    s00 += a0 * b0;
    s01 += a0 * b1;
    s10 += a1 * b0;
    s11 += a1 * b1;
  }
  sum[i * k + j] += s00;
  sum[i * k + j + 1] += s01;
  sum[(i + 1) * k + j] += s10; // below the diagonal when j = i: finish() overwrites it
  sum[(i + 1) * k + j + 1] += s11;
}

/** H[i, j] += Σᵣ t[i, r]·t[j, r] over the upper triangle (j ≥ i), in 2×2 blocks. */
function addChunk(sum: Float64Array, k: number, t: Float64Array, c: number): void {
  const even = k - (k % 2);
  for (let i = 0; i < even; i += 2) {
    for (let j = i; j < even; j += 2) addBlock(sum, k, t, c, i, j);
    if (even < k) {
      sum[i * k + even] += dotChunk(t, i * c, even * c, c);
      sum[(i + 1) * k + even] += dotChunk(t, (i + 1) * c, even * c, c);
    }
  }
  if (even < k) sum[even * k + even] += dotChunk(t, even * c, even * c, c);
}


export class HessianAccumulator implements HessianSum {
  private readonly sum: Float64Array;
  /** One chunk of rows, transposed (K · 64 values: small beside H). */
  private readonly chunk: Float64Array;
  private count = 0;
  private done = false;

  constructor(readonly k: number) {
    if (!(Number.isInteger(k) && k > 0)) throw new Error(`a Hessian needs a positive integer size, got ${k}`);
    this.sum = new Float64Array(k * k);
    this.chunk = new Float64Array(k * CHUNK);
  }

  /** Rows gathered so far. */
  get rows(): number {
    return this.count;
  }

  /** Adds `count` rows of X (K values each, row-major) from the start of `rows`. */
  add(rows: Float32Array, count: number): void {
    if (this.done) throw new Error('the Hessian is already finished');
    const { k, sum } = this;
    if (!(Number.isInteger(count) && count >= 0) || rows.length < count * k) throw new Error(`${count} rows of ${k} need ${count * k} values, got ${rows.length}`);
    for (let r = 0; r < count; r += CHUNK) {
      const c = Math.min(CHUNK, count - r);
      transposeChunk(rows, k, r, c, this.chunk);
      addChunk(sum, k, this.chunk, c);
    }
    this.count += count;
  }

  /**
   * H = 2·XᵀX / n, full and symmetric: what the reference's running average
   * (H ← H·n/(n+m) + 2/(n+m)·XᵢᵀXᵢ) ends with, without rescaling H for every batch.
   * The buffer is handed over; no rows can be added after. All zeros when no rows came.
   */
  finish(): Float64Array {
    if (this.done) throw new Error('the Hessian is already finished');
    this.done = true;
    scaleSymmetric(this.sum, this.k, this.count > 0 ? 2 / this.count : 0, 'upper');
    return this.sum;
  }
}
