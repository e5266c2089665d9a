/**
 * Eigenvalues and eigenvectors of a symmetric matrix, for factorization (transforms/truncatedSvd):
 * the blocked Householder reduction to tridiagonal form (tridiagonal.ts), implicit QL with the
 * rotations accumulated into the tridiagonal matrix's eigenvectors (EISPACK's tql2), and only the
 * eigenvectors a caller keeps carried back through the reflectors. The O(n³) loops (reduction,
 * rotations, reflections) run in the WebAssembly kernel (wasm/tridiagKernel) where there is one,
 * else in the JavaScript of tridiagonalOps.ts.
 */
import { hypot, reduceToTridiagonal } from './tridiagonal';
import { javascriptOps, javascriptVectorOps, javascriptWorkspace, PANEL_ROWS, type EigenvectorOps, type TridiagonalOps, type TridiagonalWorkspace } from './tridiagonalOps';
import { withTridiagKernel } from './wasm/tridiagKernel';

export interface SymmetricEigen {
  /** Eigenvalues, largest first (all n). */
  readonly values: Float64Array;
  /** Eigenvectors of the largest values as rows (row i belongs to values[i]), row-major, n long each. */
  readonly vectors: Float64Array;
}

/**
 * Eigen-decomposition of a symmetric n × n matrix (row-major; only its lower triangle is read;
 * not modified). `keep` says how many eigenvectors (of the largest values) to return, knowing the
 * values; all by default.
 */
export async function symmetricEigen(
  a: Float64Array,
  n: number,
  checkpoint: () => Promise<void> = async () => {},
  keep: (values: Float64Array) => number = () => n,
): Promise<SymmetricEigen> {
  const viaKernel = await withTridiagKernel(async (kernel) => {
    const ws = kernel.workspace(a, n, PANEL_ROWS, n * n);
    return decompose(ws, ws.extra, n, kernel.ops, kernel.vectorOps, checkpoint, keep);
  });
  return viaKernel ?? decompose(javascriptWorkspace(Float64Array.from(a), n), new Float64Array(n * n), n, javascriptOps, javascriptVectorOps, checkpoint, keep);
}

async function decompose(
  ws: TridiagonalWorkspace,
  z: Float64Array,
  n: number,
  ops: TridiagonalOps,
  vectorOps: EigenvectorOps,
  checkpoint: () => Promise<void>,
  keep: (values: Float64Array) => number,
): Promise<SymmetricEigen> {
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const hs = new Float64Array(n);
  await reduceToTridiagonal(ws, n, PANEL_ROWS, d, e, ops, checkpoint, hs);
  z.fill(0);
  for (let i = 0; i < n; i++) z[i * n + i] = 1;
  await qlVectors(d, e, n, z, vectorOps, checkpoint);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y] - d[x]);
  const values = Float64Array.from(order, (i) => d[i]);
  const count = Math.max(0, Math.min(n, keep(values)));
  // The kept rows, largest value first, to the top of z; then Q·z for each through the reflectors
  // (Q = P_{n-1}⋯P_2, so P_2 acts first).
  const kept = new Float64Array(count * n);
  for (let r = 0; r < count; r++) kept.set(z.subarray(order[r] * n, order[r] * n + n), r * n);
  z.set(kept);
  for (let r = 2; r < n; r++) {
    if (r % 64 === 0) await checkpoint();
    if (hs[r] !== 0) vectorOps.reflectRows(z, n, count, ws.a, r * n, r, hs[r]);
  }
  return { values, vectors: z.slice(0, count * n) };
}

/**
 * Implicit QL on the tridiagonal (d, e[1..n-1]) with the rotations applied to the rows of z
 * (EISPACK's tql2 with its eigenvectors stored as rows): eigenvalues in d, row i of z their
 * eigenvector i in the basis z started in.
 */
async function qlVectors(d: Float64Array, e: Float64Array, n: number, z: Float64Array, ops: EigenvectorOps, checkpoint: () => Promise<void>): Promise<void> {
  if (n === 0) return;
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
        f += qlSweep(d, e, n, z, l, m, ops);
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
}

/** One implicit QL step on rows l..m; returns the shift it took off d[l + 2…] (added back at the end). */
function qlSweep(d: Float64Array, e: Float64Array, n: number, z: Float64Array, l: number, m: number, ops: EigenvectorOps): number {
  let g = d[l];
  let p = (d[l + 1] - g) / (2 * e[l]);
  let r = hypot(p, 1);
  if (p < 0) r = -r;
  d[l] = e[l] / (p + r);
  d[l + 1] = e[l] * (p + r);
  const dl1 = d[l + 1];
  const shift = g - d[l];
  for (let i = l + 2; i < n; i++) d[i] -= shift;
  let h = shift;
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
    r = hypot(p, e[i]);
    e[i + 1] = s * r;
    s = e[i] / r;
    c = p / r;
    p = c * d[i] - s * g;
    d[i + 1] = h + s * (c * g + s * d[i]);
    ops.rotate(z, i * n, (i + 1) * n, n, c, s);
  }
  p = (-s * s2 * c3 * el1 * e[l]) / dl1;
  e[l] = s * p;
  d[l] = c * p;
  return shift;
}
