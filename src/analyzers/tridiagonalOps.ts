/**
 * The operations the blocked tridiagonal reduction (tridiagonal.ts) is made of, and the plain
 * JavaScript doing them: the reference the WebAssembly kernel (wasm/tridiagKernel) is tested
 * against, and what runs where WebAssembly SIMD is missing.
 */
/** Rows per panel: V and W (2·nb rows of n) stay in L2, and the update does 2·nb products per element. */
export const PANEL_ROWS = 32;

/**
 * The operations the reduction is made of. Vectors V_k, W_k are rows k of `v` and `w` (each of
 * stride n); `alpha`, `beta` hold one coefficient per panel vector.
 */
export interface TridiagonalOps {
  /** p[0..l] += A·u over the leading (l+1)² block (its lower triangle), u = row i of a. */
  symv(a: Float64Array, n: number, i: number, l: number, p: Float64Array): void;
  /** alpha[k] = V_k·x, beta[k] = W_k·x over x[0..len), for k < count. */
  dots(v: Float64Array, w: Float64Array, n: number, count: number, x: Float64Array, xAt: number, len: number, alpha: Float64Array, beta: Float64Array): void;
  /** y[yAt + c] -= Σ_k alpha[k]·W_k[c] + beta[k]·V_k[c] for c < len, k < count. */
  subtractPanel(y: Float64Array, yAt: number, v: Float64Array, w: Float64Array, n: number, count: number, len: number, alpha: Float64Array, beta: Float64Array): void;
  /** The lower triangle of the leading m × m block of a -= Σ_k V_k·W_kᵀ + W_k·V_kᵀ (matrix-matrix work). */
  update(a: Float64Array, n: number, m: number, v: Float64Array, w: Float64Array, count: number): void;
}

/** Where the reduction works: views of one memory when a kernel does the work. */
export interface TridiagonalWorkspace {
  readonly a: Float64Array;
  readonly v: Float64Array;
  readonly w: Float64Array;
  readonly p: Float64Array;
  readonly alpha: Float64Array;
  readonly beta: Float64Array;
}

export function javascriptWorkspace(a: Float64Array, n: number, nb = PANEL_ROWS): TridiagonalWorkspace {
  return { a, v: new Float64Array(nb * n), w: new Float64Array(nb * n), p: new Float64Array(n), alpha: new Float64Array(nb), beta: new Float64Array(nb) };
}

export const javascriptOps: TridiagonalOps = {
  // Row by row: element (j, k) adds to both p[j] and p[k], so nothing is read down a column
  // (a cache miss per element on big matrices).
  symv(a, n, i, l, p) {
    const u = i * n;
    for (let j = 0; j <= l; j++) {
      const row = j * n;
      const uj = a[u + j];
      let acc = a[row + j] * uj;
      for (let k = 0; k < j; k++) {
        const ajk = a[row + k];
        acc += ajk * a[u + k];
        p[k] += ajk * uj;
      }
      p[j] += acc;
    }
  },
  dots(v, w, n, count, x, xAt, len, alpha, beta) {
    for (let k = 0; k < count; k++) {
      let sv = 0;
      let sw = 0;
      for (let c = 0; c < len; c++) {
        sv += v[k * n + c] * x[xAt + c];
        sw += w[k * n + c] * x[xAt + c];
      }
      alpha[k] = sv;
      beta[k] = sw;
    }
  },
  subtractPanel(y, yAt, v, w, n, count, len, alpha, beta) {
    for (let k = 0; k < count; k++) {
      const a = alpha[k];
      const b = beta[k];
      for (let c = 0; c < len; c++) y[yAt + c] -= a * w[k * n + c] + b * v[k * n + c];
    }
  },
  update(a, n, m, v, w, count) {
    for (let j = 0; j < m; j++) {
      for (let c = 0; c <= j; c++) {
        let s = 0;
        for (let k = 0; k < count; k++) s += v[k * n + j] * w[k * n + c] + w[k * n + j] * v[k * n + c];
        a[j * n + c] -= s;
      }
    }
  },
};


/** The O(n³) loop of eigenvectors (symmetricEigen.ts), on rows of n values. */
export interface EigenvectorOps {
  /** The first `rows` rows of z (stride n) become (I - u·uᵀ/h)·row over their first len values; u = u[uAt…]. */
  reflectRows(z: Float64Array, n: number, rows: number, u: Float64Array, uAt: number, len: number, h: number): void;
}

export const javascriptVectorOps: EigenvectorOps = {
  reflectRows(z, n, rows, u, uAt, len, h) {
    for (let q = 0; q < rows; q++) {
      const row = q * n;
      let f = 0;
      for (let c = 0; c < len; c++) f += z[row + c] * u[uAt + c];
      f /= h;
      for (let c = 0; c < len; c++) z[row + c] -= f * u[uAt + c];
    }
  },
};
