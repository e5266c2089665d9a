/**
 * Eigenvalues and eigenvectors of a symmetric matrix, for factorization (transforms/truncatedSvd):
 * the blocked Householder reduction to tridiagonal form (tridiagonal.ts), the tridiagonal
 * matrix's eigenvectors by inverse iteration (tridiagonalVectors.ts, O(n²) for all of them),
 * computed only for the eigenvalues a caller keeps and carried back through the reflectors. The O(n³) loops
 * (reduction, reflections) run in the WebAssembly kernel (wasm/tridiagKernel) where there is one,
 * else in the JavaScript of tridiagonalOps.ts.
 */
import { reduceToTridiagonal } from './tridiagonal';
import { TridiagonalEigen } from './tridiagonalVectors';
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
  await checkpoint();
  const tridiagonal = new TridiagonalEigen(d, e, n);
  const lambda = tridiagonal.values;
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => lambda[y] - lambda[x]);
  const values = Float64Array.from(order, (i) => lambda[i]);
  const count = Math.max(0, Math.min(n, keep(values)));
  const wanted = new Uint8Array(n);
  for (let r = 0; r < count; r++) wanted[order[r]] = 1;
  tridiagonal.vectors(wanted, z);
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
