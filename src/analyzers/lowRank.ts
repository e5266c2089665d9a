/**
 * How much of a weight matrix a low-rank factorization keeps: the singular-value energy of W
 * (Conv weights viewed as [out, in·kh·kw]). The squared singular values are the eigenvalues of
 * the smaller Gram matrix (W·Wᵀ or Wᵀ·W), found by blocked Householder tridiagonalization
 * (tridiagonal.ts) and the implicit QL algorithm: exact up to float64 rounding, O(m·n·min(m,n))
 * time. The Gram matrix runs in the WebAssembly SIMD kernel (wasm/gramKernel), the reduction in
 * its own (wasm/tridiagKernel), where there are; the JavaScript here and in tridiagonalOps.ts is
 * the reference they are tested against. The unblocked reduction below stays as a second reference.
 */
import { withGramKernel, type GramKernel } from './wasm/gramKernel';
import { blockedEigenvalues } from './tridiagonal';
import { tqlEigenvalues } from './tridiagonalEigenvalues';
import { javascriptOps } from './tridiagonalOps';

export interface LowRankEnergy {
  /** Squared singular values, largest first. */
  readonly energies: Float64Array;
  readonly rows: number;
  readonly cols: number;
}

/**
 * Squared singular values of the rows × cols matrix stored row-major in `w`. `checkpoint` is
 * awaited every few rows of work, so a caller can yield to its event loop and cancel.
 */
export async function singularEnergies(
  w: Float32Array,
  rows: number,
  cols: number,
  checkpoint: () => Promise<void> = async () => {},
): Promise<LowRankEnergy> {
  const n = Math.min(rows, cols);
  // The kernel lays out whole rows and columns; a shape that does not divide (a caller's
  // inconsistent dims) keeps the JavaScript's answer.
  const whole = Number.isInteger(rows) && Number.isInteger(cols);
  const eig =
    (whole && (await withGramKernel((kernel) => kernelEigenvalues(kernel, w, rows, cols, checkpoint)))) ||
    (await blockedEigenvalues(await gramOfSmallerSide(w, rows, cols, checkpoint), n, checkpoint));
  for (let i = 0; i < n; i++) if (eig[i] < 0) eig[i] = 0; // rounding below zero
  eig.sort().reverse();
  return { energies: eig, rows, cols };
}

/** The Gram's eigenvalues through the kernel: its scaled lower triangle reduced as it is, the scale undone on the n eigenvalues. */
async function kernelEigenvalues(kernel: GramKernel, w: Float32Array, rows: number, cols: number, checkpoint: () => Promise<void>): Promise<Float64Array> {
  const { lower, unscale } = await kernel.scaledLowerGram(w, rows, cols, checkpoint);
  const eig = await blockedEigenvalues(lower, Math.min(rows, cols), checkpoint);
  for (let i = 0; i < eig.length; i++) eig[i] *= unscale;
  return eig;
}

/** The Gram matrix of the smaller side, n × n with n = min(rows, cols): W·Wᵀ when rows ≤ cols, else Wᵀ·W. */
export async function gramOfSmallerSide(w: Float32Array, rows: number, cols: number, checkpoint: () => Promise<void> = async () => {}): Promise<Float64Array> {
  const n = Math.min(rows, cols);
  const g = new Float64Array(n * n);
  // The O(n²·k) loops live in plain functions: V8 optimizes those whole, not on-stack in this async one.
  if (rows <= cols) {
    // G = W Wᵀ (rows × rows)
    for (let i = 0; i < rows; i++) {
      if (i % 64 === 0) await checkpoint();
      gramRow(w, cols, g, n, i);
    }
  } else {
    // G = Wᵀ W (cols × cols), accumulated row by row for cache-friendly access.
    for (let r = 0; r < rows; r++) {
      if (r % 64 === 0) await checkpoint();
      addOuterProduct(w, r * cols, cols, g, n);
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) g[j * n + i] = g[i * n + j];
  }
  return g;
}

/** Row i of W Wᵀ up to the diagonal (and its mirror): dot products of contiguous rows. */
function gramRow(w: Float32Array, cols: number, g: Float64Array, n: number, i: number): void {
  const ri = i * cols;
  for (let j = 0; j <= i; j++) {
    const rj = j * cols;
    // Four running sums: one would wait on each addition's latency.
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let k = 0;
    for (; k + 3 < cols; k += 4) {
      s0 += w[ri + k] * w[rj + k];
      s1 += w[ri + k + 1] * w[rj + k + 1];
      s2 += w[ri + k + 2] * w[rj + k + 2];
      s3 += w[ri + k + 3] * w[rj + k + 3];
    }
    for (; k < cols; k++) s0 += w[ri + k] * w[rj + k];
    const s = s0 + s1 + (s2 + s3);
    g[i * n + j] = s;
    g[j * n + i] = s;
  }
}

/** Adds the lower triangle of xᵀx to G, for x the row of W at `base`. */
function addOuterProduct(w: Float32Array, base: number, cols: number, g: Float64Array, n: number): void {
  for (let i = 0; i < cols; i++) {
    const wi = w[base + i];
    if (wi === 0) continue;
    const gi = i * n;
    for (let j = 0; j <= i; j++) g[gi + j] += wi * w[base + j];
  }
}

/**
 * The smallest rank whose singular values keep `fraction` of the total energy; null when the
 * energies known (the top ones of a randomized estimate) do not reach it.
 */
export function rankForEnergy(e: LowRankEnergy | RandomizedEnergy, fraction: number): number | null {
  let total = 0;
  if ('total' in e) total = e.total;
  else for (const v of e.energies) total += v;
  if (total === 0) return 0;
  let acc = 0;
  for (let r = 0; r < e.energies.length; r++) {
    acc += e.energies[r];
    if (acc >= fraction * total * (1 - 1e-12)) return r + 1;
  }
  return 'total' in e ? null : e.energies.length;
}

/** The fraction of the energy kept at some ranks: enough points to draw the curve, not every rank. */
export interface EnergyCurve {
  /** Ranks, rising from 1 to the largest known (all of them when there are at most `maxPoints`). */
  readonly ranks: number[];
  /** Energy kept at each rank, 0..1 (for a randomized estimate, a lower bound). */
  readonly kept: number[];
  /** min(rows, cols): the full rank. */
  readonly fullRank: number;
}

export function energyCurve(e: LowRankEnergy | RandomizedEnergy, maxPoints = 96): EnergyCurve {
  let total = 0;
  if ('total' in e) total = e.total;
  else for (const v of e.energies) total += v;
  const n = e.energies.length;
  const cumulative = new Float64Array(n);
  let acc = 0;
  for (let r = 0; r < n; r++) cumulative[r] = acc += e.energies[r];
  const ranks: number[] = [];
  const kept: number[] = [];
  const step = Math.max(1, (n - 1) / Math.max(1, maxPoints - 1));
  let last = 0;
  for (let k = 0; k < maxPoints && last < n; k++) {
    const rank = Math.min(n, Math.round(1 + k * step));
    if (rank <= last) continue;
    ranks.push(rank);
    kept.push(total > 0 ? Math.min(1, cumulative[rank - 1] / total) : 1);
    last = rank;
  }
  return { ranks, kept, fullRank: Math.min(e.rows, e.cols) };
}

/** Parameters of a rank-r factorization W ≈ U·V (U: rows × r, V: r × cols). */
export function factorizedParams(e: LowRankEnergy, rank: number): number {
  return rank * (e.rows + e.cols);
}

/**
 * The two O(n²) loops of a Householder step, with u = row i of the n × n matrix a: `symv` adds
 * A·u (the leading (l+1) × (l+1) block, read from its lower triangle) to e[0..l]; `rank2` takes
 * u·eᵀ + e·uᵀ off that block's lower triangle. The WebAssembly kernel has its own (wasm/gramKernel).
 */
export interface HouseholderLoops {
  symv(a: Float64Array, n: number, i: number, l: number, e: Float64Array): void;
  rank2(a: Float64Array, n: number, i: number, l: number, e: Float64Array): void;
}

export const javascriptLoops: HouseholderLoops = {
  symv: javascriptOps.symv,
  rank2(a, n, i, l, e) {
    const u = i * n;
    for (let j = 0; j <= l; j++) {
      const fj = a[u + j];
      const gj = e[j];
      const row = j * n;
      for (let k = 0; k <= j; k++) a[row + k] -= fj * e[k] + gj * a[u + k];
    }
  },
};

/**
 * Eigenvalues of a symmetric n × n matrix (row-major, overwritten). With the kernel's loops, `a`
 * and `e` (scratch of n) must be views of its memory.
 */
export async function symmetricEigenvalues(
  a: Float64Array,
  n: number,
  checkpoint: () => Promise<void> = async () => {},
  loops: HouseholderLoops = javascriptLoops,
  e: Float64Array = new Float64Array(n),
): Promise<Float64Array> {
  const d = new Float64Array(n);
  await tridiagonalize(a, n, d, e, checkpoint, loops);
  tqlEigenvalues(d, e, n);
  return d;
}

/** Householder reduction to tridiagonal form: diagonal in d, sub-diagonal in e[1..n-1]. */
async function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array, checkpoint: () => Promise<void>, loops: HouseholderLoops): Promise<void> {
  for (let i = n - 1; i > 0; i--) {
    if (i % 64 === 0) await checkpoint();
    d[i] = householderStep(a, n, i, e, loops);
  }
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
}

/**
 * One Householder reflection: zeroes row i left of the sub-diagonal and updates the rest; returns
 * h. A plain function of its own, so V8 optimizes it whole rather than on-stack inside the
 * async loop above (which ran the O(n²) loops about twice as slow).
 */
function householderStep(a: Float64Array, n: number, i: number, e: Float64Array, loops: HouseholderLoops): number {
  const l = i - 1;
  let h = 0;
  if (l > 0) {
    let scale = 0;
    for (let k = 0; k <= l; k++) scale += Math.abs(a[i * n + k]);
    if (scale === 0) {
      e[i] = a[i * n + l];
    } else {
      for (let k = 0; k <= l; k++) {
        a[i * n + k] /= scale;
        h += a[i * n + k] * a[i * n + k];
      }
      let f = a[i * n + l];
      const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
      e[i] = scale * g;
      h -= f * g;
      a[i * n + l] = f - g;
      // e = A·u / h over the lower triangle, then A -= u·eᵀ + e·uᵀ (see HouseholderLoops).
      e.fill(0, 0, l + 1);
      loops.symv(a, n, i, l, e);
      const u = i * n;
      f = 0;
      for (let j = 0; j <= l; j++) {
        e[j] /= h;
        f += e[j] * a[u + j];
      }
      const hh = f / (h + h);
      for (let j = 0; j <= l; j++) e[j] -= hh * a[u + j];
      loops.rank2(a, n, i, l, e);
    }
  } else {
    e[i] = a[i * n + l];
  }
  return h;
}

export interface RandomizedEnergy extends LowRankEnergy {
  /** Σ of all squared singular values (the squared Frobenius norm), exact. */
  readonly total: number;
}

/**
 * The largest `rank` squared singular values of a big matrix by randomized range finding
 * (Halko, Martinsson & Tropp 2011): Y = (W·Wᵀ)^q·W·Ω with a seeded Gaussian Ω of rank + 10
 * columns, Q = orth(Y), then the exact spectrum of Qᵀ·W. Each estimate is a lower bound of the
 * true value (σᵢ(QᵀW) ≤ σᵢ(W)), so energy fractions read from it are lower bounds and the ranks
 * derived from them upper bounds; with power iterations the bound is tight when the spectrum
 * decays. Cost: about (2q + 2) · rows · cols · (rank + 10) multiply-adds.
 */
export async function randomizedEnergies(
  w: Float32Array,
  rows: number,
  cols: number,
  rank: number,
  options: { powerIterations?: number; seed?: number; checkpoint?: () => Promise<void> } = {},
): Promise<RandomizedEnergy> {
  const checkpoint = options.checkpoint ?? (async () => {});
  const l = Math.min(rank + 10, rows, cols);
  let total = 0;
  for (let i = 0; i < w.length; i++) total += w[i] * w[i];
  // Ω: cols × l, column-major so each column is contiguous.
  let seed = options.seed ?? 1;
  const uniform = (): number => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return (seed + 0.5) / 4294967296;
  };
  const omega = new Float64Array(cols * l);
  for (let i = 0; i < omega.length; i++) omega[i] = Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());

  // Y = W·X for X (cols × l, column-major) → rows × l, column-major.
  const times = async (x: Float64Array): Promise<Float64Array> => {
    const y = new Float64Array(rows * l);
    for (let r = 0; r < rows; r++) {
      if (r % 64 === 0) await checkpoint();
      const base = r * cols;
      for (let j = 0; j < l; j++) {
        const col = j * cols;
        let s = 0;
        for (let k = 0; k < cols; k++) s += w[base + k] * x[col + k];
        y[j * rows + r] = s;
      }
    }
    return y;
  };
  // Z = Wᵀ·Y for Y (rows × l, column-major) → cols × l, column-major.
  const transposeTimes = async (y: Float64Array): Promise<Float64Array> => {
    const z = new Float64Array(cols * l);
    for (let r = 0; r < rows; r++) {
      if (r % 64 === 0) await checkpoint();
      const base = r * cols;
      for (let j = 0; j < l; j++) {
        const yr = y[j * rows + r];
        if (yr === 0) continue;
        const col = j * cols;
        for (let k = 0; k < cols; k++) z[col + k] += w[base + k] * yr;
      }
    }
    return z;
  };

  let y = orthonormalize(await times(omega), rows, l);
  for (let q = 0; q < (options.powerIterations ?? 2); q++) {
    y = orthonormalize(await times(orthonormalize(await transposeTimes(y), cols, l)), rows, l);
  }
  // B = Qᵀ·W (l × cols); its Gram matrix B·Bᵀ = Qᵀ·W·Wᵀ·Q is l × l.
  const bt = await transposeTimes(y); // cols × l = Bᵀ, column-major
  const g = new Float64Array(l * l);
  for (let i = 0; i < l; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < cols; k++) s += bt[i * cols + k] * bt[j * cols + k];
      g[i * l + j] = s;
      g[j * l + i] = s;
    }
  }
  const eig = await symmetricEigenvalues(g, l, checkpoint);
  for (let i = 0; i < l; i++) if (eig[i] < 0) eig[i] = 0;
  eig.sort().reverse();
  return { energies: eig.subarray(0, Math.min(rank, l)), rows, cols, total };
}

/** Modified Gram–Schmidt on the l columns (each n long, contiguous) of a column-major matrix. */
function orthonormalize(a: Float64Array, n: number, l: number): Float64Array {
  for (let j = 0; j < l; j++) {
    const cj = j * n;
    for (let i = 0; i < j; i++) {
      const ci = i * n;
      let dot = 0;
      for (let k = 0; k < n; k++) dot += a[ci + k] * a[cj + k];
      for (let k = 0; k < n; k++) a[cj + k] -= dot * a[ci + k];
    }
    let norm = 0;
    for (let k = 0; k < n; k++) norm += a[cj + k] * a[cj + k];
    norm = Math.sqrt(norm);
    // A column with nothing left (rank-deficient W) stays zero and contributes no energy.
    if (norm > 1e-300) for (let k = 0; k < n; k++) a[cj + k] /= norm;
    else for (let k = 0; k < n; k++) a[cj + k] = 0;
  }
  return a;
}
