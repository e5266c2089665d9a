/**
 * Preparing the Hessian for GPTQ (Frantar et al. 2022): dead inputs, activation order and
 * damping, in place on a float64 [K, K] array GPTQ may overwrite.
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

/** Rows of M [·, len] in `perm`'s order, in place: row a becomes row perm[a] (moved along perm's cycles). */
export function permuteRows(m: Float64Array, len: number, perm: Int32Array): void {
  const spare = new Float64Array(len);
  const moved = new Uint8Array(perm.length);
  for (let start = 0; start < perm.length; start++) {
    if (moved[start]) continue;
    spare.set(m.subarray(start * len, start * len + len));
    let a = start;
    for (let from = perm[a]; from !== start; a = from, from = perm[a]) {
      m.copyWithin(a * len, from * len, from * len + len);
      moved[a] = 1;
    }
    m.set(spare, a * len);
    moved[a] = 1;
  }
}

/** H with rows and columns in `perm`'s order, in place: H[a, b] becomes H[perm[a], perm[b]]. */
export function permuteSymmetric(h: Float64Array, k: number, perm: Int32Array): void {
  permuteRows(h, k, perm);
  const spare = new Float64Array(k);
  for (let a = 0; a < k; a++) {
    spare.set(h.subarray(a * k, a * k + k));
    for (let b = 0; b < k; b++) h[a * k + b] = spare[perm[b]];
  }
}

/** Adds damp · mean(diag H) to the diagonal, so a rank-deficient H still factors. */
export function dampen(h: Float64Array, k: number, damp: number): void {
  let trace = 0;
  for (let i = 0; i < k; i++) trace += h[i * k + i];
  const add = (damp * trace) / k;
  for (let i = 0; i < k; i++) h[i * k + i] += add;
}
