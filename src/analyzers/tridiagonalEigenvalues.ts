/**
 * Eigenvalues of a symmetric tridiagonal matrix. tqlEigenvalues: the implicit QL algorithm with
 * one hypot per rotation, the reference. tridiagonalEigenvalues: the root-free QL iteration (Pal,
 * Walker and Kahan's variant of Reinsch's algorithm, the one LAPACK's sterf uses), which iterates
 * on the squared off-diagonal so a sweep takes no square root: about twice as fast, with the same
 * implicit Wilkinson shift and the same deflation test; it falls back to the reference where it
 * cannot be trusted.
 */
const EPS2 = Number.EPSILON * Number.EPSILON;
/** Squares of values beyond this range would overflow or lose precision to underflow. */
const SAFE_MAX = 1e150;
const SAFE_MIN = 1e-150;
const MAX_SWEEPS = 60;

/**
 * Eigenvalues (unsorted) into d, as tqlEigenvalues: d the diagonal, e[1..n-1] the sub-diagonal
 * (e[i] couples rows i and i-1); e is overwritten. Falls back to tqlEigenvalues where squares
 * could leave float64's range or an eigenvalue does not converge. Says which one answered.
 */
export function tridiagonalEigenvalues(d: Float64Array, e: Float64Array, n: number): 'root-free' | 'reference' {
  const d0 = d.slice(0, n);
  const e0 = e.slice(0, n);
  if (inSafeRange(d, e, n) && rootFreeQl(d, e, n)) return 'root-free';
  d.set(d0);
  e.set(e0);
  tqlEigenvalues(d, e, n);
  return 'reference';
}

function inSafeRange(d: Float64Array, e: Float64Array, n: number): boolean {
  let max = 0;
  let minNonZero = Infinity;
  for (let i = 0; i < 2 * n; i++) {
    const v = Math.abs(i < n ? d[i] : i > n ? e[i - n] : 0);
    if (!(v <= SAFE_MAX)) return false; // also NaN
    if (v > max) max = v;
    if (v > 0 && v < minNonZero) minNonZero = v;
  }
  return max === 0 || minNonZero >= SAFE_MIN;
}

/** The iteration; false when some eigenvalue took more than MAX_SWEEPS sweeps. */
function rootFreeQl(d: Float64Array, e: Float64Array, n: number): boolean {
  // e2[i] = e[i+1]²: the coupling of rows i and i+1.
  const e2 = new Float64Array(n);
  for (let i = 0; i + 1 < n; i++) e2[i] = e[i + 1] * e[i + 1];
  for (let l = 0; l < n; ) {
    const m = unreducedEnd(d, e2, l, n);
    if (m === l) {
      l++;
      continue;
    }
    if (m === l + 1) {
      twoByTwo(d, e2, l);
      l += 2;
      continue;
    }
    let sweeps = 0;
    for (let end = m; end > l; end = unreducedEnd(d, e2, l, n)) {
      if (++sweeps > MAX_SWEEPS) return false;
      sweep(d, e2, l, end);
    }
  }
  return true;
}

/** The first m ≥ l whose coupling to m + 1 is negligible beside |d[m]| + |d[m+1]| (n - 1 at the end). */
function unreducedEnd(d: Float64Array, e2: Float64Array, l: number, n: number): number {
  let m = l;
  for (; m < n - 1; m++) {
    const dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
    if (e2[m] <= EPS2 * dd * dd) break;
  }
  return m;
}

/** Rows l and l + 1 split off: their 2 × 2 block's eigenvalues, in place (its coupling set to 0). */
function twoByTwo(d: Float64Array, e2: Float64Array, l: number): void {
  const a = d[l];
  const c = d[l + 1];
  const b = Math.sqrt(e2[l]);
  const sum = a + c;
  const root = hypot(a - c, 2 * b);
  const [big, small] = Math.abs(a) > Math.abs(c) ? [a, c] : [c, a];
  if (sum === 0) {
    d[l] = 0.5 * root;
    d[l + 1] = -0.5 * root;
  } else {
    // The larger eigenvalue from the sum without cancellation, the other from the determinant.
    const first = 0.5 * (sum + (sum > 0 ? root : -root));
    d[l] = first;
    d[l + 1] = (big / first) * small - (b / first) * b;
  }
  e2[l] = 0;
}

/** One implicit QL sweep over rows l..m with the Wilkinson shift from the top 2 × 2 block. */
function sweep(d: Float64Array, e2: Float64Array, l: number, m: number): void {
  const rte = Math.sqrt(e2[l]);
  let sigma = (d[l + 1] - d[l]) / (2 * rte);
  const r0 = hypot(sigma, 1);
  sigma = d[l] - rte / (sigma + (sigma >= 0 ? r0 : -r0));
  let c = 1;
  let s = 0;
  let gamma = d[m] - sigma;
  let p = gamma * gamma;
  for (let i = m - 1; i >= l; i--) {
    const bb = e2[i];
    const r = p + bb;
    if (i !== m - 1) e2[i + 1] = s * r;
    const oldc = c;
    c = p / r;
    s = bb / r;
    const oldgam = gamma;
    const alpha = d[i];
    gamma = c * (alpha - sigma) - s * oldgam;
    d[i + 1] = oldgam + (alpha - gamma);
    p = c !== 0 ? (gamma * gamma) / c : oldc * bb;
  }
  e2[l] = s * p;
  d[l] = sigma + gamma;
}

/** Implicit QL iterations on a tridiagonal matrix; eigenvalues end up in d. */
export function tqlEigenvalues(d: Float64Array, e: Float64Array, n: number): void {
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
      let r = hypot(g, 1);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? Math.abs(r) : -Math.abs(r)));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        let f = s * e[i];
        const b = c * e[i];
        r = hypot(f, g);
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

/**
 * √(a² + b²): the plain formula where the squares neither overflow nor underflow (nearly
 * always), Math.hypot's careful scaling elsewhere; Math.hypot alone made the QL iterations several
 * times slower than the reduction's O(n²) share warrants.
 */
export function hypot(a: number, b: number): number {
  const s = a * a + b * b;
  return s > 1e-290 && s < 1e290 ? Math.sqrt(s) : Math.hypot(a, b);
}
