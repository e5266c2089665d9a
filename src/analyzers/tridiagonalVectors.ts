/**
 * Eigenvalues and eigenvectors of a symmetric tridiagonal matrix by inverse iteration (the scheme
 * of LAPACK's stein): the matrix is split where an off-diagonal value is negligible; each block's
 * eigenvalues come from implicit QL (tridiagonal.ts), and each eigenvector from a few solves of
 * (T - λI)·x = b with an LU factorization with partial pivoting, orthogonalized against the
 * vectors of its cluster (eigenvalues closer than 10⁻⁶·‖T‖) so repeated and close eigenvalues
 * still give an orthonormal basis. O(n) per vector outside clusters, where QL with accumulated
 * rotations costs O(n²) per vector.
 */
import { tridiagonalEigenvalues } from './tridiagonalEigenvalues';

const EPS = 2 ** -52;
/** Eigenvalues closer than this (relative to the block's norm) form a cluster whose vectors are orthogonalized. */
const CLUSTER = 1e-6;
const ITERATIONS = 3;

/** One unreduced block of the tridiagonal matrix (no negligible off-diagonal inside), scaled to norm 1. */
interface Block {
  readonly start: number;
  readonly m: number;
  readonly norm: number;
  readonly d: Float64Array;
  readonly e: Float64Array;
  /** The block's eigenvalues, ascending, scaled by 1/norm. */
  readonly lambda: Float64Array;
}

/**
 * The eigen-decomposition of the tridiagonal matrix with diagonal d and sub-diagonal e[1..n-1]
 * (e[i] couples rows i and i-1; neither is modified): `values` at once (block by block,
 * ascending within a block), eigenvectors on demand for the values a caller picks.
 */
export class TridiagonalEigen {
  readonly values: Float64Array;
  private readonly blocks: Block[] = [];

  constructor(d: Float64Array, e: Float64Array, private readonly n: number) {
    this.values = new Float64Array(n);
    let start = 0;
    for (let i = 1; i <= n; i++) {
      if (i < n && Math.abs(e[i]) > EPS * (Math.abs(d[i - 1]) + Math.abs(d[i]))) continue;
      const block = blockOf(d, e, start, i - start);
      for (let j = 0; j < block.m; j++) this.values[start + j] = block.lambda[j] * block.norm;
      this.blocks.push(block);
      start = i;
    }
  }

  /**
   * Row j of `vectors` (n × n; other rows left zero) becomes the eigenvector of values[j], for
   * each j with wanted[j].
   */
  vectors(wanted: Uint8Array, vectors: Float64Array): void {
    vectors.fill(0);
    for (const block of this.blocks) blockVectors(block, this.n, wanted, vectors);
  }
}

function blockOf(d: Float64Array, e: Float64Array, start: number, m: number): Block {
  // Scaled to norm 1, so the tolerances are absolute and the solves cannot overflow.
  let norm = 0;
  for (let i = 0; i < m; i++) norm = Math.max(norm, Math.abs(d[start + i]) + (i > 0 ? Math.abs(e[start + i]) : 0) + (i < m - 1 ? Math.abs(e[start + i + 1]) : 0));
  if (norm === 0 || !Number.isFinite(norm)) norm = 1;
  const bd = new Float64Array(m);
  const be = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    bd[i] = d[start + i] / norm;
    if (i > 0) be[i] = e[start + i] / norm;
  }
  const lambda = Float64Array.from(bd);
  tridiagonalEigenvalues(lambda, Float64Array.from(be), m);
  lambda.sort();
  return { start, m, norm, d: bd, e: be, lambda };
}

/** Inverse iteration for the wanted eigenvalues of one block (a 1 × 1 block's vector is a unit vector). */
function blockVectors(block: Block, n: number, wanted: Uint8Array, vectors: Float64Array): void {
  const { start, m, lambda } = block;
  if (m === 1) {
    if (wanted[start]) vectors[start * n + start] = 1;
    return;
  }
  const lu = new TridiagonalLu(m);
  const x = new Float64Array(m);
  let clusterStart = 0;
  let previous = -Infinity;
  let seed = 0x9e3779b9;
  for (let j = 0; j < m; j++) {
    let shift = lambda[j];
    if (j === 0 || shift - lambda[j - 1] > CLUSTER) clusterStart = j;
    // Equal eigenvalues get slightly different shifts, so their solves differ.
    if (shift - previous < 10 * EPS) shift = previous + 10 * EPS;
    previous = shift;
    if (!wanted[start + j]) continue;
    lu.factor(block.d, block.e, shift);
    for (let i = 0; i < m; i++) {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      x[i] = seed / 2 ** 31 - 1;
    }
    for (let it = 0; it < ITERATIONS; it++) {
      lu.solve(x);
      // Against the cluster's vectors found so far (the unwanted ones stay zero and change nothing).
      for (let k = clusterStart; k < j; k++) {
        const row = (start + k) * n + start;
        let dot = 0;
        for (let i = 0; i < m; i++) dot += vectors[row + i] * x[i];
        for (let i = 0; i < m; i++) x[i] -= dot * vectors[row + i];
      }
      let sum = 0;
      for (let i = 0; i < m; i++) sum += x[i] * x[i];
      const scale = sum > 0 ? 1 / Math.sqrt(sum) : 0;
      for (let i = 0; i < m; i++) x[i] *= scale;
    }
    vectors.set(x, (start + j) * n + start);
  }
}

/** LU with partial pivoting of T - λI for a tridiagonal T (LAPACK's lagtf/lagts): U has three diagonals. */
class TridiagonalLu {
  private readonly u0: Float64Array;
  private readonly u1: Float64Array;
  private readonly u2: Float64Array;
  private readonly mult: Float64Array;
  private readonly swapped: Uint8Array;

  constructor(private readonly m: number) {
    this.u0 = new Float64Array(m);
    this.u1 = new Float64Array(m);
    this.u2 = new Float64Array(m);
    this.mult = new Float64Array(m);
    this.swapped = new Uint8Array(m);
  }

  /** T has diagonal d, off-diagonal e[1..m-1]; pivots smaller than ε are raised to ε (T has norm 1), as inverse iteration wants. */
  factor(d: Float64Array, e: Float64Array, lambda: number): void {
    const { m, u0, u1, u2, mult, swapped } = this;
    let diag = d[0] - lambda;
    let sup = m > 1 ? e[1] : 0;
    for (let k = 0; k < m - 1; k++) {
      const sub = e[k + 1];
      const nextDiag = d[k + 1] - lambda;
      const nextSup = k + 2 < m ? e[k + 2] : 0;
      if (Math.abs(diag) >= Math.abs(sub)) {
        swapped[k] = 0;
        mult[k] = diag === 0 ? 0 : sub / diag;
        u0[k] = diag;
        u1[k] = sup;
        u2[k] = 0;
        diag = nextDiag - mult[k] * sup;
        sup = nextSup;
      } else {
        swapped[k] = 1;
        mult[k] = diag / sub;
        u0[k] = sub;
        u1[k] = nextDiag;
        u2[k] = nextSup;
        diag = sup - mult[k] * nextDiag;
        sup = -mult[k] * nextSup;
      }
    }
    u0[m - 1] = diag;
    for (let k = 0; k < m; k++) if (Math.abs(u0[k]) < EPS) u0[k] = u0[k] < 0 ? -EPS : EPS;
  }

  /** x ← (T - λI)⁻¹·x. */
  solve(x: Float64Array): void {
    const { m, u0, u1, u2, mult, swapped } = this;
    for (let k = 0; k < m - 1; k++) {
      if (swapped[k]) {
        const t = x[k];
        x[k] = x[k + 1];
        x[k + 1] = t;
      }
      x[k + 1] -= mult[k] * x[k];
    }
    x[m - 1] /= u0[m - 1];
    if (m > 1) x[m - 2] = (x[m - 2] - u1[m - 2] * x[m - 1]) / u0[m - 2];
    for (let k = m - 3; k >= 0; k--) x[k] = (x[k] - u1[k] * x[k + 1] - u2[k] * x[k + 2]) / u0[k];
  }
}
