/**
 * Splits layers between analysis workers: each layer goes to the worker with the least work so
 * far, biggest layers first (the longest-processing-time rule, within 4/3 of the best split).
 * Every worker computes the same split from the same model, so no list crosses threads.
 */
export interface Shard {
  /** This worker's index, 0 ≤ index < count. */
  readonly index: number;
  readonly count: number;
}

/** The owning shard of each layer, given each layer's work (e.g. its parameter count). */
export function assignShards(work: readonly number[], count: number): Int32Array {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`shard count must be a positive integer, got ${count}`);
  const owner = new Int32Array(work.length);
  const load = new Float64Array(count);
  const order = work.map((_, i) => i).sort((a, b) => work[b] - work[a] || a - b);
  for (const layer of order) {
    let least = 0;
    for (let s = 1; s < count; s++) if (load[s] < load[least]) least = s;
    owner[layer] = least;
    load[least] += Math.max(1, work[layer]); // layers without weights still cost something
  }
  return owner;
}
