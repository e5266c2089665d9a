/**
 * Matrix multiply in WebAssembly SIMD (gemmKernel.wat), float32 and float64:
 *
 *   gemmKernel()?.gemm(sign, m, n, k, A, B, C)   C[m×n] += sign · op(A)[m×k] · op(B)[k×n]
 *
 * Each operand is a rectangle of a row-major array (`offset`, `stride` = elements per row of the
 * array), optionally transposed (op(X) = Xᵀ: then the stored rectangle is k × m for A, n × k for
 * B). All three share one element type. With `lower`, only C's lower triangle (j ≤ i) is promised
 * (a symmetric product such as A·Aᵀ; entries above it may or may not be updated). The operands are
 * copied into the kernel's memory and C back (O(mk + kn + mn) against the product's O(mnk)).
 * `gemmKernel()` is null where WebAssembly SIMD is missing: callers keep a JavaScript loop for that.
 * Where the engine has relaxed SIMD (on by default since V8 11.4: Node ≥ 22, VS Code's Electron;
 * Node 20 behind a flag that hasFusedMultiplyAdd sets) the fused multiply-add copy is used.
 */
import { setFlagsFromString } from 'node:v8';
import plainBytes from './gemmKernel.wat';
import fusedBytes from './gemmKernel.wat?fma';

export type Floats = Float32Array | Float64Array;

/** A matrix operand: element (i, j) of the stored rectangle is data[offset + i·stride + j]. */
export interface Operand<T extends Floats> {
  readonly data: T;
  readonly offset?: number;
  readonly stride: number;
  /** The operand is the transpose of the stored rectangle. */
  readonly transposed?: boolean;
}

interface Exports {
  memory: WebAssembly.Memory;
  gemm(
    shift: number, m: number, n: number, k: number, a: number, ars: number, acs: number, b: number, brs: number, bcs: number,
    c: number, ldc: number, alpha: number, beta: number, below: number, pa: number, pb: number, mcMax: number, kcMax: number, ncMax: number,
  ): void;
  widenAdd(c: number, g: number, count: number): void;
  peak32(steps: number): number;
}

/** Cache blocks (elements): A's mc × kc block stays in L2, a kc × 8 panel of B in L1. */
const BLOCKS = { 2: { mc: 120, kc: 256, nc: 1024 }, 3: { mc: 60, kc: 256, nc: 512 } } as const;
const SCRATCH = 256;
/** Bytes of operand copies one gemm() call keeps in the kernel's memory (beyond B, if B is larger). */
const COPY_BUDGET = 32 * 2 ** 20;
const MIN_BAND = 120;
const PAGE = 65536;

/** Each variant compiled once: kernels with memories of their own (a Hessian, a GPTQ run) come and go. */
const modules = new Map<boolean, WebAssembly.Module>();
function compiled(fused: boolean): WebAssembly.Module {
  let m = modules.get(fused);
  if (!m) modules.set(fused, (m = new WebAssembly.Module(fused ? fusedBytes : plainBytes)));
  return m;
}

export class GemmKernel {
  readonly exports: Exports;

  /**
   * `bands`: bytes of A's and C's copies one band of gemm() aims to keep, and the fewest rows of C a band
   * takes (each band packs all of B again); smaller in tests, to cut C in many bands.
   */
  constructor(readonly fused: boolean, private readonly bands = { budget: COPY_BUDGET, minRows: MIN_BAND }) {
    this.exports = new WebAssembly.Instance(compiled(fused)).exports as unknown as Exports;
  }

  /**
   * Room for float64 arrays of these lengths, one after another from `free(3)`: their byte
   * addresses (views of them are made by the caller, again after any growth of the memory).
   */
  place(lengths: readonly number[]): number[] {
    const at: number[] = [];
    let end = GemmKernel.free(3);
    for (const n of lengths) {
      at.push(end);
      end += n * 8;
    }
    this.reserve(end);
    return at;
  }

  /** Float64 view of `length` values at byte address `at` of the memory as it is now. */
  f64(at: number, length: number): Float64Array {
    return new Float64Array(this.exports.memory.buffer, at, length);
  }

  /** Makes the memory at least `bytes` long; views of it taken before are invalid after a growth. */
  reserve(bytes: number): void {
    const memory = this.exports.memory;
    if (bytes > memory.buffer.byteLength) memory.grow(Math.ceil((bytes - memory.buffer.byteLength) / PAGE));
  }

  /**
   * C += (alpha·op(A))·(beta·op(B)) on matrices already in this kernel's memory at byte addresses
   * a, b, c (from `GemmKernel.free(shift)` on), with element strides: op(A)[i][p] = a[i·ars +
   * p·acs], and likewise b. alpha and beta are ±1 or powers of two, so the scaling is exact. With
   * `below` ≥ 0 only C[i][j] with j ≤ i + below are promised (0: the lower triangle).
   */
  product(
    shift: 2 | 3, m: number, n: number, k: number, a: number, ars: number, acs: number, b: number, brs: number, bcs: number,
    c: number, ldc: number, below = -1, alpha = 1, beta = 1,
  ): void {
    if (m === 0 || n === 0 || k === 0) return;
    const { mc, kc, nc } = BLOCKS[shift];
    this.exports.gemm(shift, m, n, k, a, ars, acs, b, brs, bcs, c, ldc, alpha, beta, below, SCRATCH, SCRATCH + (mc * kc << shift), mc, kc, nc);
  }

  /** The first byte free for operands after the scratch and packing buffers of `shift`'s type. */
  static free(shift: 2 | 3): number {
    const { mc, kc, nc } = BLOCKS[shift];
    return SCRATCH + ((mc * kc + kc * nc) << shift);
  }

  /**
   * C[m×n] += sign · op(A)[m×k] · op(B)[k×n]: see the module comment. Done in bands of C's rows
   * so the copies of A's and C's band in the kernel's memory stay within a budget (32 MiB), B once.
   * Operands that are views of this kernel's memory (placed from `GemmKernel.free(shift)` on) are
   * used where they lie, with no copy: all three, or none (copies would go over them).
   */
  gemm<T extends Floats>(sign: 1 | -1, m: number, n: number, k: number, a: Operand<T>, b: Operand<T>, c: Operand<T>, options: { lower?: boolean } = {}): void {
    if (m === 0 || n === 0 || k === 0) return;
    const shift = c.data instanceof Float32Array ? 2 : 3;
    if ((a.data instanceof Float32Array) !== (shift === 2) || (b.data instanceof Float32Array) !== (shift === 2)) throw new Error('gemm: A, B and C must share one element type');
    const size = 1 << shift;
    const lower = options.lower ?? false;
    const own = this.exports.memory.buffer;
    const inside = [a, b, c].filter((x) => x.data.buffer === own).length;
    if (inside === 3) {
      const at = (x: Operand<T>): number => x.data.byteOffset + (x.offset ?? 0) * size;
      // Below free(shift) lie the packing buffers the product overwrites.
      if ([a, b, c].some((x) => at(x) < GemmKernel.free(shift))) throw new Error('gemm: operands in the kernel memory must lie from GemmKernel.free(shift) on');
      const [ars, acs] = a.transposed ? [1, a.stride] : [a.stride, 1];
      const [brs, bcs] = b.transposed ? [1, b.stride] : [b.stride, 1];
      this.product(shift, m, n, k, at(a), ars, acs, at(b), brs, bcs, at(c), c.stride, lower ? 0 : -1, sign);
      return;
    }
    if (inside > 0) throw new Error("gemm: A, B and C must all be in the kernel's memory, or none");
    const band = Math.max(this.bands.minRows, Math.floor(this.bands.budget / ((k + n) * size) / 6) * 6);
    const bAt = GemmKernel.free(shift);
    const aAt = bAt + k * n * size;
    const cAt = aAt + Math.min(band, m) * k * size;
    this.reserve(cAt + Math.min(band, m) * n * size);
    const View = (shift === 2 ? Float32Array : Float64Array) as unknown as new (buffer: ArrayBuffer, at: number, length: number) => T;
    const memory = this.exports.memory.buffer;
    const [bRows, bCols] = b.transposed ? [n, k] : [k, n];
    copyIn(new View(memory, bAt, k * n), b, bRows, bCols);
    const [brs, bcs] = b.transposed ? [1, k] : [n, 1];
    for (let r0 = 0; r0 < m; r0 += band) {
      const rows = Math.min(band, m - r0);
      // Lower: columns past the band's last row are all above the diagonal.
      const cols = lower ? Math.min(n, r0 + rows) : n;
      const aBand = a.transposed ? { ...a, offset: (a.offset ?? 0) + r0 } : { ...a, offset: (a.offset ?? 0) + r0 * a.stride };
      copyIn(new View(memory, aAt, rows * k), aBand, a.transposed ? k : rows, a.transposed ? rows : k);
      const cBand = { ...c, offset: (c.offset ?? 0) + r0 * c.stride };
      const cView = new View(memory, cAt, rows * cols);
      copyIn(cView, cBand, rows, cols);
      const [ars, acs] = a.transposed ? [1, rows] : [k, 1];
      this.product(shift, rows, cols, k, aAt, ars, acs, bAt, brs, bcs, cAt, cols, lower ? r0 : -1, sign);
      copyOut(cView, cBand, rows, cols);
    }
  }

  /** The float32 micro-tile's arithmetic (12 vector multiply-adds) on registers only, `steps` times (bench/gramBench's ceiling). */
  peak(steps: number): number {
    return this.exports.peak32(steps);
  }
}

/** The rows × cols rectangle of `from` into `to`, packed (row stride = cols). */
function copyIn<T extends Floats>(to: T, from: Operand<T>, rows: number, cols: number): void {
  const offset = from.offset ?? 0;
  if (from.stride === cols) {
    to.set(from.data.subarray(offset, offset + rows * cols));
    return;
  }
  for (let r = 0; r < rows; r++) to.set(from.data.subarray(offset + r * from.stride, offset + r * from.stride + cols), r * cols);
}

function copyOut<T extends Floats>(from: T, to: Operand<T>, rows: number, cols: number): void {
  const offset = to.offset ?? 0;
  if (to.stride === cols) {
    to.data.set(from, offset);
    return;
  }
  for (let r = 0; r < rows; r++) to.data.set(from.subarray(r * cols, r * cols + cols), offset + r * to.stride);
}

let shared: GemmKernel | null | undefined;

let fusedChecked: boolean | undefined;

/**
 * Whether this engine accepts relaxed SIMD's fused multiply-add. Node 20's V8 (11.3) has it
 * behind a flag, which takes effect for modules compiled after it is set, in every thread; newer
 * V8 (Node ≥ 22, VS Code's Electron) ships it on.
 */
export function hasFusedMultiplyAdd(): boolean {
  if (fusedChecked === undefined) {
    fusedChecked = WebAssembly.validate(fusedBytes);
    if (!fusedChecked && process.versions.node?.startsWith('20.') && !process.versions.electron) {
      setFlagsFromString('--experimental-wasm-relaxed-simd');
      fusedChecked = WebAssembly.validate(fusedBytes);
    }
  }
  return fusedChecked;
}

/**
 * This thread's kernel (the fused variant where the engine has relaxed SIMD), or null where
 * WebAssembly SIMD is missing. `fused: false` forces the plain variant (tests, benchmarks).
 */
export function gemmKernel(options: { fused?: boolean } = {}): GemmKernel | null {
  if (options.fused !== undefined) return options.fused && !hasFusedMultiplyAdd() ? null : new GemmKernel(options.fused);
  if (shared === undefined) {
    try {
      shared = new GemmKernel(hasFusedMultiplyAdd());
    } catch {
      shared = null;
    }
  }
  return shared;
}
