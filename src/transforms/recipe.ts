/**
 * Recipes: a list of transform steps as JSON (`schemas/recipe.schema.json` describes the same
 * shape for editors). Parsing checks every field and fills in defaults, so a step read back
 * from a saved recipe does exactly what it did when it was recorded.
 */
import { didYouMean } from '../core/didYouMean';
import { OnnxError } from '../core/errors';
import type { LayerSelector } from './targets';

export type QuantDType = 'int8' | 'uint8' | 'int4' | 'uint4' | 'float16';
export type Granularity = 'per-tensor' | 'per-channel' | 'block';

interface StepBase {
  readonly layers: LayerSelector;
  /** Layer names or globs left out even when `layers` matches them. */
  readonly exclude: readonly string[];
}

export interface CalibrationSettings {
  readonly method: 'minmax' | 'percentile' | 'entropy';
  /** A .npz file or a folder of <input>.npy files; random inputs when absent. */
  readonly data?: string;
  readonly samples: number;
  readonly percentile: number;
  /**
   * 7-bit weights ([-63, 63]): onnxruntime's U8S8 integer kernels can saturate on x86 CPUs
   * without VNNI (AVX2, AVX-512 before Cascade Lake); the reduced range avoids it.
   */
  readonly reduceRange: boolean;
  /** Input shapes for random calibration inputs, where the model leaves dims symbolic. */
  readonly shapes?: Readonly<Record<string, readonly number[]>>;
}

export interface QuantizeStep extends StepBase {
  readonly transform: 'quantize';
  /** 'weights': weight-only; 'static': activations too (QDQ), calibrated by running the model. */
  readonly mode: 'weights' | 'static';
  readonly calibration?: CalibrationSettings;
  readonly dtype: QuantDType;
  readonly granularity: Granularity;
  readonly symmetric: boolean;
  /** Elements per scale along the reduction axis (granularity 'block'). */
  readonly blockSize: number;
  /** 'matmulnbits': onnxruntime's MatMulNBits (MatMul and Gemm layers); absent: DequantizeLinear (standard ONNX). */
  readonly format?: 'matmulnbits';
  /** MatMulNBits' accuracy_level (4: int8 compute, onnxruntime's fastest on CPU). */
  readonly accuracyLevel?: number;
}

export interface PruneStep extends StepBase {
  readonly transform: 'prune';
  /** Fraction of weights (unstructured), or of output channels (channel), set to zero / removed. */
  readonly sparsity: number;
  /** 'unstructured', 'channel', or 'N:M' (keep N of every M along the reduction axis). */
  readonly pattern: string;
  /** 'layer': each layer pruned to the sparsity; 'global': one magnitude threshold across the selected layers. */
  readonly scope: 'layer' | 'global';
  /** Channel ranking for pattern 'channel'. */
  readonly norm: 'l1' | 'l2';
}

export interface ClusterStep extends StepBase {
  readonly transform: 'cluster';
  readonly clusters: number;
  /** Keep exact zeros exact: one cluster is fixed at 0. */
  readonly keepZero: boolean;
  readonly init: 'kmeans++' | 'optimal';
  readonly seed: number;
}

export interface FactorizeStep extends StepBase {
  readonly transform: 'factorize';
  readonly rank?: number;
  /** Fraction of the singular-value energy to keep (when no rank is given). */
  readonly energy?: number;
}

export type RecipeStep = QuantizeStep | PruneStep | ClusterStep | FactorizeStep;

export interface Recipe {
  readonly version: 1;
  readonly steps: readonly RecipeStep[];
}

type Json = Record<string, unknown>;

class Fields {
  private readonly used = new Set<string>(['transform', 'layers', 'exclude']);
  constructor(private readonly o: Json, private readonly where: string) {}

  fail(message: string): never {
    throw new OnnxError('recipe', message, this.where);
  }

  private take(key: string): unknown {
    this.used.add(key);
    return this.o[key];
  }

  number(key: string, fallback: number | undefined, min: number, max: number, integer = false): number | undefined {
    const v = this.take(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      this.fail(`'${key}' must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not ${JSON.stringify(v)}`);
    }
    return v;
  }

  boolean(key: string, fallback: boolean): boolean {
    const v = this.take(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') this.fail(`'${key}' must be true or false, not ${JSON.stringify(v)}`);
    return v;
  }

  choice<T extends string>(key: string, options: readonly T[], fallback: T | undefined): T | undefined {
    const v = this.take(key);
    if (v === undefined) return fallback;
    if (!options.includes(v as T)) this.fail(`'${key}' must be one of ${options.map((x) => `"${x}"`).join(', ')}, not ${JSON.stringify(v)}`);
    return v as T;
  }

  object(key: string): Json | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`'${key}' must be an object`);
    return v as Json;
  }

  string(key: string, fallback: string): string {
    const v = this.take(key);
    if (v === undefined) return fallback;
    if (typeof v !== 'string') this.fail(`'${key}' must be a string`);
    return v;
  }

  /** Every key of the step was understood (a typo must not silently do nothing). */
  finish(notAllowed: readonly string[] = []): void {
    const unknown = Object.keys(this.o).filter((k) => !this.used.has(k) || notAllowed.includes(k));
    const known = [...this.used].filter((k) => !notAllowed.includes(k));
    if (unknown.length) this.fail(`unknown parameter${unknown.length > 1 ? 's' : ''} ${unknownNames(unknown, known)}`);
  }
}

/** "'blocksize' (did you mean 'blockSize'?), 'foo'": each unknown name with the known ones it is a typo of. */
function unknownNames(unknown: readonly string[], known: readonly string[]): string {
  return unknown.map((k) => `'${k}'${didYouMean(k, known)}`).join(', ');
}

function stringList(v: unknown, key: string, where: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) {
    throw new OnnxError('recipe', `'${key}' must be a list of layer names`, where);
  }
  return v as string[];
}

function parseLayers(o: Json, where: string): StepBase {
  const layers = o.layers ?? '*';
  const exclude = o.exclude === undefined ? [] : stringList(o.exclude, 'exclude', where);
  if (layers === '*') return { layers, exclude };
  return { layers: stringList(layers, 'layers', where), exclude };
}

const N_OF_M = /^(\d+):(\d+)$/;

export function parseStep(raw: unknown, where = 'step'): RecipeStep {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new OnnxError('recipe', 'a step must be an object', where);
  const o = raw as Json;
  const f = new Fields(o, where);
  const base = parseLayers(o, where);
  let step: RecipeStep;
  switch (o.transform) {
    case 'quantize': {
      const bits = f.number('bits', undefined, 4, 16, true);
      if (bits !== undefined && bits !== 4 && bits !== 8 && bits !== 16) f.fail(`'bits' must be 4, 8 or 16, not ${bits}`);
      const symmetric = f.boolean('symmetric', true);
      const fromBits: QuantDType | undefined = bits === 16 ? 'float16' : bits === 4 ? 'int4' : bits === 8 ? (symmetric ? 'int8' : 'uint8') : undefined;
      const dtype = f.choice<QuantDType>('dtype', ['int8', 'uint8', 'int4', 'uint4', 'float16'], fromBits ?? 'int8') as QuantDType;
      if (fromBits && bits !== bitsOf(dtype)) f.fail(`'bits' ${bits} contradicts 'dtype' "${dtype}"`);
      const granularity = f.choice<Granularity>('granularity', ['per-tensor', 'per-channel', 'block'], dtype.endsWith('4') ? 'block' : 'per-channel') as Granularity;
      const blockSize = f.number('blockSize', 32, 2, 1 << 20, true) as number;
      if (granularity === 'block' && (blockSize & (blockSize - 1)) !== 0) f.fail(`'blockSize' must be a power of two, not ${blockSize}`);
      const mode = f.choice('mode', ['weights', 'static'] as const, 'weights') as 'weights' | 'static';
      const calibration = f.object('calibration');
      if (mode === 'static' && (dtype !== 'int8' || granularity === 'block' || !symmetric)) {
        f.fail(`'mode' "static" quantizes weights to symmetric int8 (per-channel or per-tensor) and activations to uint8`);
      }
      if (calibration && mode !== 'static') f.fail(`'calibration' applies to 'mode' "static" only`);
      const format = f.choice('format', ['qdq', 'matmulnbits'] as const, 'qdq') as 'qdq' | 'matmulnbits';
      const accuracyLevel = f.number('accuracyLevel', format === 'matmulnbits' ? 4 : undefined, 0, 4, true);
      if (accuracyLevel !== undefined && format !== 'matmulnbits') f.fail(`'accuracyLevel' applies to 'format' "matmulnbits" only`);
      if (format === 'matmulnbits' && (mode !== 'weights' || dtype === 'float16' || granularity !== 'block')) {
        f.fail(`'format' "matmulnbits" stores 4- or 8-bit weights in blocks: it needs 'granularity' "block" and weight-only quantization`);
      }
      step = {
        transform: 'quantize', ...base, dtype, granularity, symmetric, blockSize, mode,
        ...(format === 'matmulnbits' ? { format, accuracyLevel } : {}),
        ...(mode === 'static' ? { calibration: parseCalibration(calibration ?? {}, `${where} calibration`) } : {}),
      };
      break;
    }
    case 'prune': {
      const pattern = f.string('pattern', 'unstructured');
      const nm = N_OF_M.exec(pattern);
      if (pattern !== 'unstructured' && pattern !== 'channel' && !(nm && +nm[1] >= 1 && +nm[1] < +nm[2] && +nm[2] <= 64)) {
        f.fail(`'pattern' must be "unstructured", "channel" or "N:M" with 1 ≤ N < M ≤ 64, not ${JSON.stringify(pattern)}`);
      }
      const given = f.number('sparsity', nm ? 1 - +nm[1] / +nm[2] : undefined, 0, 0.99);
      const sparsity = given ?? f.fail(`'sparsity' is required for pattern "${pattern}"`);
      if (nm && Math.abs(sparsity - (1 - +nm[1] / +nm[2])) > 1e-9) f.fail(`'sparsity' ${sparsity} contradicts pattern "${pattern}"`);
      const scope = f.choice('scope', ['layer', 'global'] as const, 'layer') as 'layer' | 'global';
      if (scope === 'global' && pattern !== 'unstructured') f.fail(`'scope' "global" applies to unstructured pruning only`);
      const norm = f.choice('norm', ['l1', 'l2'] as const, 'l1') as 'l1' | 'l2';
      step = { transform: 'prune', ...base, sparsity, pattern, scope, norm };
      break;
    }
    case 'cluster': {
      const clusters = f.number('clusters', 16, 2, 256, true) as number;
      step = {
        transform: 'cluster', ...base, clusters,
        keepZero: f.boolean('keepZero', false),
        init: f.choice('init', ['kmeans++', 'optimal'] as const, 'kmeans++') as 'kmeans++' | 'optimal',
        seed: f.number('seed', 1, 0, 2 ** 32 - 1, true) as number,
      };
      break;
    }
    case 'factorize': {
      const rank = f.number('rank', undefined, 1, 1 << 20, true);
      const energy = f.number('energy', undefined, 0.01, 1);
      if (rank === undefined && energy === undefined) f.fail(`give 'rank' or 'energy'`);
      if (rank !== undefined && energy !== undefined) f.fail(`give 'rank' or 'energy', not both`);
      step = { transform: 'factorize', ...base, rank, energy };
      break;
    }
    default:
      throw new OnnxError('recipe', `'transform' must be "quantize", "prune", "cluster" or "factorize", not ${JSON.stringify(o.transform)}`, where);
  }
  f.finish();
  return step;
}

function parseCalibration(o: Json, where: string): CalibrationSettings {
  const f = new Fields(o, where);
  const method = f.choice('method', ['minmax', 'percentile', 'entropy'] as const, 'minmax') as CalibrationSettings['method'];
  const data = f.string('data', '');
  const samples = f.number('samples', 16, 1, 100_000, true) as number;
  const percentile = f.number('percentile', 99.99, 50, 100) as number;
  const reduceRange = f.boolean('reduceRange', true);
  const shapes = f.object('shapes');
  for (const [k, v] of Object.entries(shapes ?? {})) {
    if (!Array.isArray(v) || v.some((d) => !Number.isInteger(d) || d < 1 || d > 1 << 20)) f.fail(`'shapes' entry '${k}' must be a list of positive integers`);
  }
  f.finish(['transform', 'layers', 'exclude']);
  return { method, ...(data ? { data } : {}), samples, percentile, reduceRange, ...(shapes ? { shapes: shapes as Record<string, number[]> } : {}) };
}

function bitsOf(dtype: QuantDType): number {
  return dtype === 'float16' ? 16 : dtype.endsWith('4') ? 4 : 8;
}

export function parseRecipe(raw: unknown): Recipe {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new OnnxError('recipe', 'a recipe must be a JSON object', 'recipe');
  const o = raw as Json;
  if (o.version !== 1) throw new OnnxError('recipe', `'version' must be 1, not ${JSON.stringify(o.version)}`, 'recipe');
  if (!Array.isArray(o.steps)) throw new OnnxError('recipe', `'steps' must be a list`, 'recipe');
  const extra = Object.keys(o).filter((k) => k !== 'version' && k !== 'steps' && k !== '$schema' && k !== 'description');
  if (extra.length) throw new OnnxError('recipe', `unknown field${extra.length > 1 ? 's' : ''} ${unknownNames(extra, ['version', 'steps', '$schema', 'description'])}`, 'recipe');
  return { version: 1, steps: o.steps.map((s, i) => parseStep(s, `recipe step ${i + 1}`)) };
}

/** The step as recipe JSON, every parameter spelled out (so later defaults cannot change it). */
export function stepToJson(step: RecipeStep): Json {
  const out: Json = { ...step };
  if (step.exclude.length === 0) delete out.exclude;
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}
