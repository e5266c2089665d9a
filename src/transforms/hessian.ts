/**
 * The Hessian GPTQ needs, H = 2·XᵀX / n over the n rows of a layer's inputs X [n, K], gathered
 * batch by batch in one float64 [K, K] buffer (nothing else grows with the data).
 */

/** Σ xxᵀ over the upper triangle, four rows per pass so each sum is loaded and stored once. */
function addFourRows(sum: Float64Array, k: number, x: Float32Array, at: number): void {
  const a1 = at + k, a2 = a1 + k, a3 = a2 + k;
  for (let i = 0; i < k; i++) {
    const p0 = x[at + i], p1 = x[a1 + i], p2 = x[a2 + i], p3 = x[a3 + i];
    if (p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0) continue; // ReLU outputs are often zero
    const row = i * k;
    for (let j = i; j < k; j++) sum[row + j] += p0 * x[at + j] + p1 * x[a1 + j] + p2 * x[a2 + j] + p3 * x[a3 + j];
  }
}

function addRow(sum: Float64Array, k: number, x: Float32Array, at: number): void {
  for (let i = 0; i < k; i++) {
    const p = x[at + i];
    if (p === 0) continue;
    const row = i * k;
    for (let j = i; j < k; j++) sum[row + j] += p * x[at + j];
  }
}

/** Mirrors the upper triangle into the lower one and scales everything by `factor`. */
function finishSymmetric(sum: Float64Array, k: number, factor: number): void {
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const v = sum[i * k + j] * factor;
      sum[i * k + j] = v;
      sum[j * k + i] = v;
    }
  }
}

export class HessianAccumulator {
  private readonly sum: Float64Array;
  private count = 0;
  private done = false;

  constructor(readonly k: number) {
    if (!(Number.isInteger(k) && k > 0)) throw new Error(`a Hessian needs a positive integer size, got ${k}`);
    this.sum = new Float64Array(k * k);
  }

  /** Rows gathered so far. */
  get rows(): number {
    return this.count;
  }

  /** Adds `count` rows of X (K values each, row-major) from the start of `rows`. */
  add(rows: Float32Array, count: number): void {
    if (this.done) throw new Error('the Hessian is already finished');
    const { k, sum } = this;
    if (!(Number.isInteger(count) && count >= 0) || rows.length < count * k) throw new Error(`${count} rows of ${k} need ${count * k} values, got ${rows.length}`);
    let r = 0;
    for (; r + 4 <= count; r += 4) addFourRows(sum, k, rows, r * k);
    for (; r < count; r++) addRow(sum, k, rows, r * k);
    this.count += count;
  }

  /**
   * H = 2·XᵀX / n, full and symmetric: what the reference's running average
   * (H ← H·n/(n+m) + 2/(n+m)·XᵢᵀXᵢ) ends with, without rescaling H for every batch.
   * The buffer is handed over; no rows can be added after. All zeros when no rows came.
   */
  finish(): Float64Array {
    if (this.done) throw new Error('the Hessian is already finished');
    this.done = true;
    finishSymmetric(this.sum, this.k, this.count > 0 ? 2 / this.count : 0);
    return this.sum;
  }
}
