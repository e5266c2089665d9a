/**
 * How much of a weight matrix a low-rank factorization keeps: the singular-value energy of W
 * (Conv weights viewed as [out, in·kh·kw]). The squared singular values are the eigenvalues of
 * the smaller Gram matrix (W·Wᵀ or Wᵀ·W), found by Householder tridiagonalization and the
 * implicit QL algorithm: exact up to float64 rounding, O(m·n·min(m,n)) time.
 */

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
  const g = new Float64Array(n * n);
  if (rows <= cols) {
    // G = W Wᵀ (rows × rows)
    for (let i = 0; i < rows; i++) {
      if (i % 64 === 0) await checkpoint();
      const ri = i * cols;
      for (let j = 0; j <= i; j++) {
        const rj = j * cols;
        let s = 0;
        for (let k = 0; k < cols; k++) s += w[ri + k] * w[rj + k];
        g[i * n + j] = s;
        g[j * n + i] = s;
      }
    }
  } else {
    // G = Wᵀ W (cols × cols), accumulated row by row for cache-friendly access.
    for (let r = 0; r < rows; r++) {
      if (r % 64 === 0) await checkpoint();
      const base = r * cols;
      for (let i = 0; i < cols; i++) {
        const wi = w[base + i];
        if (wi === 0) continue;
        const gi = i * n;
        for (let j = 0; j <= i; j++) g[gi + j] += wi * w[base + j];
      }
    }
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) g[j * n + i] = g[i * n + j];
  }
  const eig = await symmetricEigenvalues(g, n, checkpoint);
  for (let i = 0; i < n; i++) if (eig[i] < 0) eig[i] = 0; // rounding below zero
  eig.sort().reverse();
  return { energies: eig, rows, cols };
}

/** The smallest rank whose singular values keep `fraction` of the total energy. */
export function rankForEnergy(e: LowRankEnergy, fraction: number): number {
  let total = 0;
  for (const v of e.energies) total += v;
  if (total === 0) return 0;
  let acc = 0;
  for (let r = 0; r < e.energies.length; r++) {
    acc += e.energies[r];
    if (acc >= fraction * total * (1 - 1e-12)) return r + 1;
  }
  return e.energies.length;
}

/** Parameters of a rank-r factorization W ≈ U·V (U: rows × r, V: r × cols). */
export function factorizedParams(e: LowRankEnergy, rank: number): number {
  return rank * (e.rows + e.cols);
}

/** Eigenvalues of a symmetric n × n matrix (row-major, overwritten). */
export async function symmetricEigenvalues(a: Float64Array, n: number, checkpoint: () => Promise<void> = async () => {}): Promise<Float64Array> {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  await tridiagonalize(a, n, d, e, checkpoint);
  tqlEigenvalues(d, e, n);
  return d;
}

/** Householder reduction to tridiagonal form: diagonal in d, sub-diagonal in e[1..n-1]. */
async function tridiagonalize(a: Float64Array, n: number, d: Float64Array, e: Float64Array, checkpoint: () => Promise<void>): Promise<void> {
  for (let i = n - 1; i > 0; i--) {
    if (i % 64 === 0) await checkpoint();
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
        f = 0;
        for (let j = 0; j <= l; j++) {
          let gg = 0;
          for (let k = 0; k <= j; k++) gg += a[j * n + k] * a[i * n + k];
          for (let k = j + 1; k <= l; k++) gg += a[k * n + j] * a[i * n + k];
          e[j] = gg / h;
          f += e[j] * a[i * n + j];
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          const fj = a[i * n + j];
          const gj = (e[j] -= hh * fj);
          for (let k = 0; k <= j; k++) a[j * n + k] -= fj * e[k] + gj * a[i * n + k];
        }
      }
    } else {
      e[i] = a[i * n + l];
    }
    d[i] = h;
  }
  for (let i = 0; i < n; i++) d[i] = a[i * n + i];
}

/** Implicit QL iterations on a tridiagonal matrix; eigenvalues end up in d. */
function tqlEigenvalues(d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  if (n > 0) e[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iter = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
        if (Math.abs(e[m]) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (++iter > 60) break; // converges in a few; never loop forever on odd input
      let g = (d[l + 1] - d[l]) / (2 * e[l]);
      let r = Math.hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        let f = s * e[i];
        const b = c * e[i];
        r = Math.hypot(f, g);
        e[i + 1] = r;
        if (r === 0) {
          d[i + 1] -= p;
          e[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        f = 0;
      }
      if (r === 0 && i >= l) continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0;
    }
  }
}
