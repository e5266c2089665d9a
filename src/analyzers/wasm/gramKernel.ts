/**
 * The WebAssembly Gram kernel (gramKernel.wat): G = W·Wᵀ or Wᵀ·W (the smaller side) of a float32
 * matrix, in float64. The weight goes through the kernel's memory one panel of PANEL columns of A
 * at a time (A = W, or Wᵀ when W is tall), widened to float64 and padded with zeros to whole
 * tiles, so memory stays n² + n·PANEL however long the other side is. Products of float32 values
 * are exact in float64; only the order of the float64 sums differs from the JavaScript reference
 * (lowRank.ts), which stays for where WebAssembly SIMD is missing.
 */
import kernelBytes from './gramKernel.wat';
import { kernelsEnabled } from './kernelSwitch';

interface KernelExports {
  memory: WebAssembly.Memory;
  syrk(a: number, n: number, k: number, g: number): void;
  symv(a: number, n: number, i: number, l: number, e: number): void;
  rank2(a: number, n: number, i: number, l: number, e: number): void;
}

type Loop = (a: Float64Array, n: number, i: number, l: number, e: Float64Array) => void;

/** Columns of A per panel: 4 rows of a tile (4 KB) and the two rows against them stay in L1. */
const PANEL = 128;
const PAGE = 65536;

export class GramKernel {
  private readonly exports: KernelExports;

  constructor() {
    this.exports = new WebAssembly.Instance(new WebAssembly.Module(kernelBytes)).exports as unknown as KernelExports;
  }

  /**
   * The Householder loops of lowRank.ts (its HouseholderLoops) on matrices and vectors in this
   * kernel's memory, as gram() returns them.
   */
  readonly loops: { symv: Loop; rank2: Loop } = {
    symv: (a, n, i, l, e) => this.exports.symv(a.byteOffset, n, i, l, e.byteOffset),
    rank2: (a, n, i, l, e) => this.exports.rank2(a.byteOffset, n, i, l, e.byteOffset),
  };

  /**
   * The n × n Gram matrix of the smaller side of the rows × cols matrix `w` (row-major), n =
   * min(rows, cols), as a view of the kernel's memory, with room for n more values (`scratch`)
   * after it. Both stay valid until the next call. `checkpoint` is awaited between panels.
   */
  async gram(w: Float32Array, rows: number, cols: number, checkpoint: () => Promise<void> = async () => {}): Promise<{ g: Float64Array; scratch: Float64Array }> {
    const n = Math.min(rows, cols);
    const k = Math.max(rows, cols);
    const wide = rows <= cols; // A = W; else A = Wᵀ
    const n4 = Math.ceil(n / 4) * 4;
    const gBytes = n4 * n4 * 8;
    const panelBytes = n4 * PANEL * 8;
    const memory = this.exports.memory;
    if (gBytes + panelBytes > memory.buffer.byteLength) memory.grow(Math.ceil((gBytes + panelBytes - memory.buffer.byteLength) / PAGE));
    new Float64Array(memory.buffer, 0, n4 * n4).fill(0);
    for (let first = 0; first < k; first += PANEL) {
      const width = Math.min(PANEL, k - first);
      const kc = width + (width & 1);
      const panel = new Float64Array(memory.buffer, gBytes, n4 * kc);
      if (wide) fillRows(panel, w, cols, n, first, width, kc);
      else fillColumns(panel, w, cols, n, first, width, kc);
      this.exports.syrk(gBytes, n4, kc, 0);
      await checkpoint();
    }
    // Compacted in place to n × n (row i moves from i·n4 to i·n ≤ i·n4), mirrored.
    const g4 = new Float64Array(memory.buffer, 0, n4 * n4);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) g4[i * n + j] = g4[i * n4 + j];
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) g4[j * n + i] = g4[i * n + j];
    return { g: new Float64Array(memory.buffer, 0, n * n), scratch: new Float64Array(memory.buffer, n * n * 8, n) };
  }
}

/** panel[i][t] = W[i][first + t] for the n rows; the padding (rows n.., columns width..) zero. */
function fillRows(panel: Float64Array, w: Float32Array, cols: number, n: number, first: number, width: number, kc: number): void {
  panel.fill(0);
  for (let i = 0; i < n; i++) {
    const from = i * cols + first;
    const to = i * kc;
    for (let t = 0; t < width; t++) panel[to + t] = w[from + t];
  }
}

/** panel[i][t] = W[first + t][i]: rows of W read in order, written down the panel's columns. */
function fillColumns(panel: Float64Array, w: Float32Array, cols: number, n: number, first: number, width: number, kc: number): void {
  panel.fill(0);
  for (let t = 0; t < width; t++) {
    const from = (first + t) * cols;
    for (let i = 0; i < n; i++) panel[i * kc + t] = w[from + i];
  }
}

/** Kernels not in use on this thread: a Gram awaits between panels, so two analyses running at once each need their own memory. */
const idle: GramKernel[] = [];
let available = true;

/**
 * Runs `f` with a kernel of its own for as long as it runs; null where WebAssembly SIMD is not
 * available (then JavaScript does the work).
 */
export async function withGramKernel<T>(f: (kernel: GramKernel) => Promise<T>): Promise<T | null> {
  if (!available || !kernelsEnabled()) return null;
  let kernel = idle.pop();
  if (!kernel) {
    try {
      kernel = new GramKernel();
    } catch {
      available = false;
      return null;
    }
  }
  try {
    return await f(kernel);
  } finally {
    idle.push(kernel);
  }
}
