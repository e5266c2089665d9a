/** Runs a model file in onnxruntime-node on fixed inputs (tests only; the product runs it in a child process). */
import * as ort from 'onnxruntime-node';

export type Feeds = Record<string, ort.Tensor>;

export async function runModel(file: string, feeds: Feeds): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(file, { graphOptimizationLevel: 'disabled' });
  try {
    const out = await session.run(feeds);
    return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.data as Float32Array]));
  } finally {
    await session.release();
  }
}

/** Deterministic pseudo-random floats in [-1, 1). */
export function fixedFloats(n: number, seed = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

export { ort };
