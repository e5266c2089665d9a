/**
 * Rank-r factorizations W ≈ A·B from the eigen-decomposition of the smaller Gram matrix
 * (analyzers/symmetricEigen: blocked Householder tridiagonalization, implicit QL with the
 * rotations accumulated, only the r eigenvectors kept carried back). At full rank A·B reproduces
 * W to float64 rounding whatever the spectrum, because the eigenvectors form an orthonormal basis.
 * The factors are balanced (each side carries √σ) so neither holds all the magnitude, which keeps
 * later quantization of either one well scaled.
 */
import { gramOfSmallerSide } from '../analyzers/lowRank';
import { symmetricEigen } from '../analyzers/symmetricEigen';
import { gemmKernel } from '../analyzers/wasm/gemmKernel';
import { kernelsEnabled } from '../analyzers/wasm/kernelSwitch';

export { symmetricEigen, type SymmetricEigen } from '../analyzers/symmetricEigen';

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
  await checkpoint();
  const gram = exactGram(w, rows, cols) ?? (await gramOfSmallerSide(w, rows, cols, checkpoint));
  const rankOf = (values: Float64Array): number => Math.max(1, Math.min(n, chooseRank(values.map((x) => Math.max(0, x)))));
  const eig = await symmetricEigen(gram, n, checkpoint, rankOf);
  const energies = eig.values.map((x) => Math.max(0, x));
  const rank = rankOf(eig.values);
  const a = new Float32Array(rows * rank);
  const b = new Float32Array(rank * cols);
  for (let r = 0; r < rank; r++) {
    await checkpoint();
    const u = eig.vectors.subarray(r * n, r * n + n);
    const sigma = Math.sqrt(energies[r]);
    // Projection of W on the unit vector u has norm σ: split it as √σ on each side.
    const toA = sigma > 0 ? 1 / Math.sqrt(sigma) : 0;
    const toB = sigma > 0 ? Math.sqrt(sigma) : 0;
    if (rows <= cols) {
      // u is a left singular vector: W ≈ Σ u (uᵀW).
      for (let i = 0; i < rows; i++) a[i * rank + r] = u[i] * toB;
      // uᵀW accumulated row by row of W (contiguous reads).
      const acc = new Float64Array(cols);
      for (let i = 0; i < rows; i++) {
        const ui = u[i];
        if (ui === 0) continue;
        const base = i * cols;
        for (let j = 0; j < cols; j++) acc[j] += ui * w[base + j];
      }
      for (let j = 0; j < cols; j++) b[r * cols + j] = acc[j] * toA;
    } else {
      // u is a right singular vector: W ≈ Σ (W u) uᵀ.
      for (let i = 0; i < rows; i++) {
        let s = 0;
        for (let j = 0; j < cols; j++) s += w[i * cols + j] * u[j];
        a[i * rank + r] = s * toA;
      }
      for (let j = 0; j < cols; j++) b[r * cols + j] = u[j] * toB;
    }
  }
  return { a, b, rank, energies };
}

/**
 * The Gram matrix of the smaller side in float64 (lower triangle; the upper is not used), through
 * the float64 matrix multiply: products of float32 values are exact there, so the small squared
 * singular values keep float64's precision, not float32's (whose rounding, relative to σ₁², would
 * swamp them). Null where WebAssembly SIMD is missing.
 */
function exactGram(w: Float32Array, rows: number, cols: number): Float64Array | null {
  const kernel = kernelsEnabled() ? gemmKernel() : null;
  if (!kernel) return null;
  const n = Math.min(rows, cols);
  const data = Float64Array.from(w);
  const g = new Float64Array(n * n);
  const wide = rows <= cols;
  // Wide: G = W·Wᵀ; tall: G = Wᵀ·W.
  const first = { data, stride: cols, transposed: !wide };
  const second = { data, stride: cols, transposed: wide };
  kernel.gemm(1, n, n, Math.max(rows, cols), first, second, { data: g, stride: n }, { lower: true });
  return g;
}
