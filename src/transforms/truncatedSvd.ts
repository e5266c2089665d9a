/**
 * Rank-r factorizations W ≈ A·B from the eigen-decomposition of the smaller Gram matrix
 * (Householder tridiagonalization and implicit QL with accumulated vectors, EISPACK's tred2 and
 * tql2). At full rank A·B reproduces W to float64 rounding whatever the spectrum, because the
 * eigenvectors form an orthonormal basis. The factors are balanced (each side carries √σ) so
 * neither holds all the magnitude, which keeps later quantization of either one well scaled.
 */
import { gemmKernel } from '../analyzers/wasm/gemmKernel';
import { kernelsEnabled } from '../analyzers/wasm/kernelSwitch';
import { gramOfSmallerSide } from '../analyzers/lowRank';

export interface SymmetricEigen {
  /** Eigenvalues, largest first. */
  readonly values: Float64Array;
  /** Eigenvectors as rows (row i belongs to values[i]), n × n row-major. */
  readonly vectors: Float64Array;
}

/** Eigen-decomposition of a symmetric n × n matrix (row-major; not modified). */
export async function symmetricEigen(a: Float64Array, n: number, checkpoint: () => Promise<void> = async () => {}): Promise<SymmetricEigen> {
  // Worked on as the transpose of EISPACK's V (a is symmetric, so it starts equal): the O(n³)
  // loops then run along rows, and the eigenvectors come out as rows, as tql2 wants them.
  const t = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: t };
  await tred2(t, n, d, e, checkpoint);
  await tql2(t, n, d, e, checkpoint);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y] - d[x]);
  const values = Float64Array.from(order, (i) => d[i]);
  const vectors = new Float64Array(n * n);
  order.forEach((src, dst) => vectors.set(t.subarray(src * n, src * n + n), dst * n));
  return { values, vectors };
}

/** Householder tridiagonalization with accumulated transformations; `t` holds Vᵀ (t[y·n + x] = V[x][y]). */
async function tred2(t: Float64Array, n: number, d: Float64Array, e: Float64Array, checkpoint: () => Promise<void>): Promise<void> {
  for (let j = 0; j < n; j++) d[j] = t[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    if (i % 32 === 0) await checkpoint();
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = t[j * n + i - 1];
        t[j * n + i] = 0;
        t[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        f = d[j];
        t[i * n + j] = f;
        const row = j * n;
        g = e[j] + t[row + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          g += t[row + k] * d[k];
          e[k] += t[row + k] * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        f = d[j];
        g = e[j];
        const row = j * n;
        for (let k = j; k <= i - 1; k++) t[row + k] -= f * e[k] + g * d[k];
        d[j] = t[row + i - 1];
        t[row + i] = 0;
      }
    }
    d[i] = h;
  }
  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    if (i % 32 === 0) await checkpoint();
    t[i * n + n - 1] = t[i * n + i];
    t[i * n + i] = 1;
    const h = d[i + 1];
    const next = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = t[next + k] / h;
      for (let j = 0; j <= i; j++) {
        const row = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += t[next + k] * t[row + k];
        for (let k = 0; k <= i; k++) t[row + k] -= g * d[k];
      }
    }
    for (let k = 0; k <= i; k++) t[next + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = t[j * n + n - 1];
    t[j * n + n - 1] = 0;
  }
  t[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e); `rows` holds eigenvector i as row i. */
async function tql2(rows: Float64Array, n: number, d: Float64Array, e: Float64Array, checkpoint: () => Promise<void>): Promise<void> {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    if (l % 32 === 0) await checkpoint();
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > eps * tst1) m++;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) break; // converges in a few; never loop forever on odd input
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1];
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = Math.hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          const a = i * n;
          const b = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const hk = rows[b + k];
            rows[b + k] = s * rows[a + k] + c * hk;
            rows[a + k] = c * rows[a + k] - s * hk;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

export interface Factorization {
  /** rows × rank, row-major. */
  readonly a: Float32Array;
  /** rank × cols, row-major. */
  readonly b: Float32Array;
  readonly rank: number;
  /** Squared singular values of W, largest first. */
  readonly energies: Float64Array;
}

/**
 * W (rows × cols, row-major) ≈ A·B at the given rank, or at the smallest rank keeping `energy`
 * of Σσ² when `rank` is a function of the energies.
 */
export async function truncatedSvd(
  w: Float32Array,
  rows: number,
  cols: number,
  chooseRank: (energies: Float64Array) => number,
  checkpoint: () => Promise<void> = async () => {},
): Promise<Factorization> {
  const n = Math.min(rows, cols);
  const eig = await symmetricEigen(await gramOfSmallerSide(w, rows, cols, checkpoint), n, checkpoint);
  const energies = eig.values.map((x) => Math.max(0, x));
  const rank = Math.max(1, Math.min(n, chooseRank(energies)));
  const a = new Float32Array(rows * rank);
  const b = new Float32Array(rank * cols);
  await checkpoint();
  // The projections of W on the rank vectors u (rows of eig.vectors), one matrix product:
  // wide, u are left singular vectors, W ≈ Σ u (uᵀW); tall, right ones, W ≈ Σ (W u) uᵀ.
  const wide = rows <= cols;
  const projected = project(w, rows, cols, eig.vectors.subarray(0, rank * n), rank, wide);
  for (let r = 0; r < rank; r++) {
    const u = eig.vectors.subarray(r * n, r * n + n);
    const sigma = Math.sqrt(energies[r]);
    // Projection of W on the unit vector u has norm σ: split it as √σ on each side.
    const toA = sigma > 0 ? 1 / Math.sqrt(sigma) : 0;
    const toB = sigma > 0 ? Math.sqrt(sigma) : 0;
    if (wide) {
      for (let i = 0; i < rows; i++) a[i * rank + r] = u[i] * toB;
      for (let j = 0; j < cols; j++) b[r * cols + j] = projected[r * cols + j] * toA;
    } else {
      for (let i = 0; i < rows; i++) a[i * rank + r] = projected[i * rank + r] * toA;
      for (let j = 0; j < cols; j++) b[r * cols + j] = u[j] * toB;
    }
  }
  return { a, b, rank, energies };
}

/**
 * Wide: Uᵀ·W [rank, cols] (u the rows of `vectors`, rows long); tall: W·U [rows, rank] (u cols
 * long). In float64; a WebAssembly product where there is one.
 */
function project(w: Float32Array, rows: number, cols: number, vectors: Float64Array, rank: number, wide: boolean): Float64Array {
  const kernel = kernelsEnabled() ? gemmKernel() : null;
  const out = new Float64Array(wide ? rank * cols : rows * rank);
  if (kernel) {
    const w64 = { data: Float64Array.from(w), stride: cols };
    if (wide) kernel.gemm(1, rank, cols, rows, { data: vectors, stride: rows }, w64, { data: out, stride: cols });
    else kernel.gemm(1, rows, rank, cols, w64, { data: vectors, stride: cols, transposed: true }, { data: out, stride: rank });
    return out;
  }
  for (let r = 0; r < rank; r++) {
    const u = vectors.subarray(r * (wide ? rows : cols));
    if (wide) {
      // uᵀW accumulated row by row of W (contiguous reads).
      for (let i = 0; i < rows; i++) {
        const ui = u[i];
        if (ui === 0) continue;
        for (let j = 0; j < cols; j++) out[r * cols + j] += ui * w[i * cols + j];
      }
    } else {
      for (let i = 0; i < rows; i++) {
        let s = 0;
        for (let j = 0; j < cols; j++) s += w[i * cols + j] * u[j];
        out[i * rank + r] = s;
      }
    }
  }
  return out;
}
