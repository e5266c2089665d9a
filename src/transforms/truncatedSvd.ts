/**
 * Rank-r factorizations W ≈ A·B from the eigen-decomposition of the smaller Gram matrix
 * (analyzers/symmetricEigen: blocked Householder tridiagonalization, implicit QL with the
 * rotations accumulated, only the r eigenvectors kept carried back). At full rank A·B reproduces
 * W to float64 rounding whatever the spectrum, because the eigenvectors form an orthonormal basis.
 * The factors are balanced (each side carries √σ) so neither holds all the magnitude, which keeps
 * later quantization of either one well scaled.
 */
import { gemmKernel } from '../analyzers/wasm/gemmKernel';
import { kernelsEnabled } from '../analyzers/wasm/kernelSwitch';
import { gramOfSmallerSide } from '../analyzers/lowRank';
import { symmetricEigen } from '../analyzers/symmetricEigen';

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
