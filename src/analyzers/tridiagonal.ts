/**
 * Blocked Householder reduction of a symmetric matrix to tridiagonal form, eigenvalues only (the
 * scheme of LAPACK's sytrd, written for our row-major lower triangle, last row first as
 * lowRank.ts's unblocked reduction). A panel of `nb` rows is reduced one reflector at a time
 * with matrix-vector work on the part of the matrix still to come, the earlier reflectors of the
 * panel applied lazily through their vectors (V, W); then the rest of the matrix takes all of
 * them at once, A -= V·Wᵀ + W·Vᵀ, a rank-2·nb update that is matrix-matrix work. Same
 * arithmetic in float64 as the unblocked reduction, only grouped differently.
 * The hot parts run in the WebAssembly kernel (wasm/tridiagKernel) where there is one; the
 * JavaScript operations below are the reference it is tested against.
 */
import { javascriptOps, javascriptWorkspace, PANEL_ROWS, type TridiagonalOps, type TridiagonalWorkspace } from './tridiagonalOps';
import { withTridiagKernel } from './wasm/tridiagKernel';
import { tridiagonalEigenvalues } from './tridiagonalEigenvalues';

/**
 * Eigenvalues (unsorted) of the symmetric n × n matrix `a` (row-major; only its lower triangle
 * is read). `a` is not modified: the kernel works on a copy in its memory, the JavaScript on a copy.
 */
export async function blockedEigenvalues(a: Float64Array, n: number, checkpoint: () => Promise<void> = async () => {}): Promise<Float64Array> {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const done = await withTridiagKernel(async (kernel) => {
    await reduceToTridiagonal(kernel.workspace(a, n, PANEL_ROWS), n, PANEL_ROWS, d, e, kernel.ops, checkpoint);
    return true;
  });
  if (!done) await reduceToTridiagonal(javascriptWorkspace(Float64Array.from(a), n), n, PANEL_ROWS, d, e, javascriptOps, checkpoint);
  tridiagonalEigenvalues(d, e, n);
  return d;
}

/**
 * The reduction: diagonal in d, sub-diagonal in e[1..n-1] (e[i] couples rows i and i-1), as
 * lowRank.ts's tridiagonalize leaves them. `ws.a` is overwritten: row r keeps the reflector
 * I - u·uᵀ/h that zeroed it, u in its first r values, h in `hs[r]` (0: no reflector) when given.
 */
export async function reduceToTridiagonal(
  ws: TridiagonalWorkspace,
  n: number,
  nb: number,
  d: Float64Array,
  e: Float64Array,
  ops: TridiagonalOps,
  checkpoint: () => Promise<void> = async () => {},
  hs: Float64Array = new Float64Array(n),
): Promise<void> {
  const { a, v, w } = ws;
  for (let top = n - 1; top > 0; ) {
    await checkpoint();
    const count = Math.min(nb, top);
    for (let k = 0; k < count; k++) hs[top - k] = panelStep(ws, n, top - k, k, d, e, ops);
    top -= count;
    // Rows 0..top have not seen this panel's reflectors yet.
    ops.update(a, n, top + 1, v, w, count);
  }
  if (n > 0) d[0] = a[0];
}

/**
 * Row r, the k-th of its panel: brings it up to date with the panel's earlier reflectors, then
 * finds the reflector I - u·uᵀ/h that zeroes it left of the sub-diagonal, keeps u in the row and
 * stores V_k = u and W_k = q, where the reflected matrix is A - u·qᵀ - q·uᵀ. Returns h (0: none).
 */
function panelStep(ws: TridiagonalWorkspace, n: number, r: number, k: number, d: Float64Array, e: Float64Array, ops: TridiagonalOps): number {
  const { a, v, w, p, alpha, beta } = ws;
  const row = r * n;
  if (k > 0) {
    for (let j = 0; j < k; j++) {
      alpha[j] = v[j * n + r];
      beta[j] = w[j * n + r];
    }
    ops.subtractPanel(a, row, v, w, n, k, r + 1, alpha, beta);
  }
  d[r] = a[row + r];
  const l = r - 1;
  let scale = 0;
  for (let c = 0; c <= l; c++) scale += Math.abs(a[row + c]);
  if (l === 0 || scale === 0) {
    e[r] = a[row + l];
    v.fill(0, k * n, k * n + r);
    w.fill(0, k * n, k * n + r);
    return 0;
  }
  let h = 0;
  for (let c = 0; c <= l; c++) {
    a[row + c] /= scale;
    h += a[row + c] * a[row + c];
  }
  const f = a[row + l];
  const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
  e[r] = scale * g;
  h -= f * g;
  a[row + l] = f - g;
  // p = (current A)·u / h: the stored matrix times u, less what the panel's reflectors took off.
  p.fill(0, 0, r);
  ops.symv(a, n, r, l, p);
  if (k > 0) {
    ops.dots(v, w, n, k, a, row, r, alpha, beta);
    ops.subtractPanel(p, 0, v, w, n, k, r, alpha, beta);
  }
  let up = 0;
  for (let c = 0; c <= l; c++) {
    p[c] /= h;
    up += a[row + c] * p[c];
  }
  const half = up / (h + h);
  for (let c = 0; c <= l; c++) {
    v[k * n + c] = a[row + c];
    w[k * n + c] = p[c] - half * a[row + c];
  }
  return h;
}
