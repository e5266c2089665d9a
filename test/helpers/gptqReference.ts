/** The NumPy GPTQ reference (test/fixtures/make_gptq_reference.py), read back. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseNpz, npyToFloat32, type NpyArray } from '../../src/core/npy';
import type { QuantDType } from '../../src/shared/stepSpec';
import { HessianAccumulator } from '../../src/transforms/hessian';
import { readJson, repoRoot } from './paths';

export interface GptqCase {
  readonly name: string;
  readonly k: number;
  readonly n: number;
  readonly dtype: Exclude<QuantDType, 'float16'>;
  readonly symmetric: boolean;
  readonly granularity: 'per-channel' | 'block';
  readonly block?: number;
  readonly act_order: boolean;
  readonly dead: number[];
  readonly samples: number;
  /** ‖X·W − X·Ŵ‖ with the reference's Ŵ, and with round-to-nearest's. */
  readonly outputError: number;
  readonly rtnOutputError: number;
}

export interface GptqReference {
  readonly hessianBatches: number[];
  readonly cases: GptqCase[];
  readonly arrays: ReadonlyMap<string, NpyArray>;
}

const fixtures = path.join(repoRoot, 'test/fixtures');

export function loadGptqReference(): GptqReference {
  const meta = readJson<{ hessianBatches: number[]; cases: GptqCase[] }>(path.join(fixtures, 'gptq_reference.json'));
  return { ...meta, arrays: parseNpz(fs.readFileSync(path.join(fixtures, 'gptq_reference.npz'))) };
}

export function floats(ref: GptqReference, key: string): Float32Array {
  const a = ref.arrays.get(key);
  if (!a) throw new Error(`gptq_reference.npz has no ${key}`);
  return npyToFloat32(a);
}

export function ints(ref: GptqReference, key: string): Int32Array {
  return Int32Array.from(floats(ref, key));
}

export function doubles(ref: GptqReference, key: string): Float64Array {
  const a = ref.arrays.get(key);
  if (!a || a.dtype !== 'float64') throw new Error(`gptq_reference.npz has no float64 ${key}`);
  return new Float64Array(new Uint8Array(a.data).buffer); // copied: the view may be unaligned
}

/** H over X [rows, K] fed in `batches` of rows, then the rest. */
export function hessianOf(x: Float32Array, k: number, batches: readonly number[]): Float64Array {
  const acc = new HessianAccumulator(k);
  const rows = x.length / k;
  let at = 0;
  for (const m of [...batches, rows - batches.reduce((a, b) => a + b, 0)]) {
    acc.add(x.subarray(at * k, (at + m) * k), m);
    at += m;
  }
  if (acc.rows !== rows) throw new Error(`the accumulator counted ${acc.rows} rows of ${rows}`);
  return acc.finish();
}
