/**
 * Preparing the Hessian for GPTQ (Frantar et al. 2022): dead inputs, activation order and
 * damping, on a float64 [K, K] copy.
 */

/** Inputs that never fire (H_ii = 0): H_ii becomes 1 so H can be factored; returns their indices. */
export function reviveDeadInputs(h: Float64Array, k: number): number[] {
  const dead: number[] = [];
  for (let i = 0; i < k; i++) {
    if (h[i * k + i] === 0) {
      h[i * k + i] = 1;
      dead.push(i);
    }
  }
  return dead;
}

/** Inputs by decreasing diag(H), ties by index (the most active inputs are quantized first). */
export function activationOrder(h: Float64Array, k: number): Int32Array {
  const order = Array.from({ length: k }, (_, i) => i);
  order.sort((a, b) => h[b * k + b] - h[a * k + a] || a - b);
  return Int32Array.from(order);
}

/** H with rows and columns in `perm`'s order: out[a, b] = H[perm[a], perm[b]]. */
export function permuteSymmetric(h: Float64Array, k: number, perm: Int32Array): Float64Array {
  const out = new Float64Array(k * k);
  for (let a = 0; a < k; a++) {
    const from = perm[a] * k;
    const to = a * k;
    for (let b = 0; b < k; b++) out[to + b] = h[from + perm[b]];
  }
  return out;
}

/** Adds damp · mean(diag H) to the diagonal, so a rank-deficient H still factors. */
export function dampen(h: Float64Array, k: number, damp: number): void {
  let trace = 0;
  for (let i = 0; i < k; i++) trace += h[i * k + i];
  const add = (damp * trace) / k;
  for (let i = 0; i < k; i++) h[i * k + i] += add;
}
