/**
 * Recipes: a list of transform steps as JSON (`schemas/recipe.schema.json` describes the same
 * shape for editors). Parsing checks every field and fills in defaults, so a step read back
 * from a saved recipe does exactly what it did when it was recorded. Ranges, choices and
 * defaults come from the step specification (shared/stepSpec.ts); the checks across fields are here.
 */
import { didYouMean } from '../core/didYouMean';
import { OnnxError } from '../core/errors';
import type { LayerSelector } from './targets';
import {
  CALIBRATION, MATMULNBITS_MIN_BLOCK, TRANSFORMS, defaultOf, notApplying,
  type BooleanParam, type CalibrationMethod, type ChoiceParam, type Granularity, type NumberParam, type ParamSpec, type QuantDType, type TextParam,
} from '../shared/stepSpec';

interface StepBase {
  readonly layers: LayerSelector;
  /** Layer names or globs left out even when `layers` matches them. */
  readonly exclude: readonly string[];
}

export interface CalibrationSettings {
  readonly method: CalibrationMethod;
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
  /** 'qdq': DequantizeLinear (standard ONNX); 'matmulnbits': onnxruntime's MatMulNBits (MatMul and Gemm layers) and GatherBlockQuantized (embedding Gathers). */
  readonly format?: 'qdq' | 'matmulnbits';
  /** MatMulNBits' accuracy_level (4: int8 compute, onnxruntime's fastest on CPU). */
  readonly accuracyLevel?: number;
  /** 'rtn': round to nearest; 'gptq': GPTQ on MatMul, Gemm and Conv weights, from calibration's input Hessians. */
  readonly method: 'rtn' | 'gptq';
  /** GPTQ's damping: the fraction of mean(diag H) added to H's diagonal. */
  readonly damp: number;
  /** GPTQ: inputs in decreasing order of diag(H). */
  readonly actOrder: boolean;
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
  /**
   * The model the recipe was written for, relative to the recipe file: the editor checks layer
   * names against it and predicts each step's size and error on it. `apply` takes its MODEL argument.
   */
  readonly model?: string;
}

/** The fields a recipe may have besides its steps. */
export const RECIPE_FIELDS = ['version', 'steps', '$schema', 'description', 'model'] as const;

type Json = Record<string, unknown>;

class Fields {
  private readonly used = new Set<string>(['transform', 'layers', 'exclude']);
  /** `lenient`: parameters that do not apply pass (steps we wrote ourselves; see parseOwnStep). */
  constructor(
    private readonly o: Json,
    private readonly where: string,
    private readonly lenient = false,
  ) {}

  fail(message: string): never {
    throw new OnnxError('recipe', message, this.where);
  }

  private take(key: string): unknown {
    this.used.add(key);
    return this.o[key];
  }

  /** A number in the parameter's range; `fallback` when absent (the parameter's default unless given). */
  number(key: string, p: NumberParam, fallback: number | undefined = p.default): number | undefined {
    const v = this.take(key);
    if (v === undefined) return fallback;
    const { min, max, integer } = p;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      this.fail(`'${key}' must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, not ${JSON.stringify(v)}`);
    }
    if (p.values && !p.values.includes(v)) this.fail(`'${key}' must be ${p.values.slice(0, -1).join(', ')} or ${p.values.at(-1)}, not ${v}`);
    if (p.powerOfTwo && (v & (v - 1)) !== 0) this.fail(`'${key}' must be a power of two, not ${v}`);
    return v;
  }

  boolean(key: string, p: BooleanParam): boolean {
    const v = this.take(key);
    if (v === undefined) return p.default;
    if (typeof v !== 'boolean') this.fail(`'${key}' must be true or false, not ${JSON.stringify(v)}`);
    return v;
  }

  /** One of the parameter's options; its default (given the step's other values) when absent. */
  choice<T extends string>(key: string, p: ChoiceParam, values: Json = {}): T {
    const v = this.take(key);
    if (v === undefined) return defaultOf(p, values) as T;
    if (!p.options.includes(v as T)) this.fail(`'${key}' must be one of ${p.options.map((x) => `"${x}"`).join(', ')}, not ${JSON.stringify(v)}`);
    return v as T;
  }

  object(key: string): Json | undefined {
    const v = this.take(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(`'${key}' must be an object`);
    return v as Json;
  }

  string(key: string, p: TextParam): string {
    const v = this.take(key);
    if (v === undefined) return p.default ?? '';
    if (typeof v !== 'string') this.fail(`'${key}' must be a string`);
    return v;
  }

  /**
   * No parameter was given that the step's other values make meaningless (`when` in the step
   * specification): an option that cannot apply is an error, not silently ignored.
   */
  applies(params: Readonly<Record<string, ParamSpec>>, values: Json, implied: readonly string[] = []): void {
    if (this.lenient) return;
    const bad = notApplying(params, this.o, values).filter((k) => !implied.includes(k));
    if (bad.length) this.fail(`'${bad[0]}' applies to ${params[bad[0]].appliesTo ?? 'other settings'} only`);
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

/** A list of layer names, or one name alone. */
function stringList(v: unknown, key: string, where: string): string[] {
  if (typeof v === 'string' && v !== '') return [v];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '')) {
    throw new OnnxError('recipe', `'${key}' must be a layer name or a list of layer names`, where);
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

/** The parameter `key` of a spec, of the kind the parser reads it as. */
function param<K extends ParamSpec['kind']>(params: Readonly<Record<string, ParamSpec>>, key: string, kind: K): Extract<ParamSpec, { kind: K }> {
  const p = params[key];
  if (p?.kind !== kind) throw new Error(`internal: the step specification has no ${kind} parameter '${key}'`);
  return p as Extract<ParamSpec, { kind: K }>;
}

const Q = TRANSFORMS.quantize.params;
const P = TRANSFORMS.prune.params;
const K = TRANSFORMS.cluster.params;
const F = TRANSFORMS.factorize.params;

/**
 * A step this extension wrote itself (a hot-exit backup): earlier versions spelled out every
 * default, including parameters that do not apply (`norm` on unstructured pruning, a calibration's
 * `percentile` with min/max), which parseStep refuses in a user's recipe. The user never wrote
 * those, and they change nothing, so they pass here and the edits come back; anything else wrong
 * is an error as in parseStep.
 */
export function parseOwnStep(raw: unknown, where = 'step'): RecipeStep {
  return parseStep(raw, where, true);
}

export function parseStep(raw: unknown, where = 'step', lenient = false): RecipeStep {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new OnnxError('recipe', 'a step must be an object', where);
  const o = raw as Json;
  const f = new Fields(o, where, lenient);
  const base = parseLayers(o, where);
  let step: RecipeStep;
  switch (o.transform) {
    case 'quantize': {
      const bits = f.number('bits', param(Q, 'bits', 'number'));
      const symmetric = f.boolean('symmetric', param(Q, 'symmetric', 'boolean'));
      const fromBits: QuantDType | undefined = bits === 16 ? 'float16' : bits === 4 ? 'int4' : bits === 8 ? (symmetric ? 'int8' : 'uint8') : undefined;
      const dtype: QuantDType = fromBits && o.dtype === undefined ? fromBits : f.choice('dtype', param(Q, 'dtype', 'choice'));
      if (fromBits && bits !== bitsOf(dtype)) f.fail(`'bits' ${bits} contradicts 'dtype' "${dtype}"`);
      const granularity: Granularity = f.choice('granularity', param(Q, 'granularity', 'choice'), { dtype });
      const blockSize = f.number('blockSize', { ...param(Q, 'blockSize', 'number'), powerOfTwo: granularity === 'block' }) as number;
      const mode: 'weights' | 'static' = f.choice('mode', param(Q, 'mode', 'choice'));
      const calibration = f.object('calibration');
      if (mode === 'static' && (dtype !== 'int8' || granularity === 'block' || !symmetric)) {
        f.fail(`'mode' "static" quantizes weights to symmetric int8 (per-channel or per-tensor) and activations to uint8`);
      }
      const method: 'rtn' | 'gptq' = f.choice('method', param(Q, 'method', 'choice'));
      if (method === 'gptq' && (mode !== 'weights' || dtype === 'float16')) f.fail(`'method' "gptq" applies to weight-only integer quantization`);
      if (method === 'gptq' && granularity === 'per-tensor') f.fail(`'method' "gptq" needs 'granularity' "per-channel" or "block"`);
      const damp = f.number('damp', param(Q, 'damp', 'number')) as number;
      const actOrder = f.boolean('actOrder', param(Q, 'actOrder', 'boolean'));
      if (calibration && mode !== 'static' && method !== 'gptq') f.fail(`'calibration' applies to 'mode' "static" and 'method' "gptq" only`);
      const format: 'qdq' | 'matmulnbits' = f.choice('format', param(Q, 'format', 'choice'));
      const accuracyLevel = f.number('accuracyLevel', param(Q, 'accuracyLevel', 'number'));
      if (format === 'matmulnbits' && (mode !== 'weights' || dtype === 'float16' || granularity !== 'block')) {
        f.fail(`'format' "matmulnbits" stores 4- or 8-bit weights in blocks: it needs 'granularity' "block" and weight-only quantization`);
      }
      if (format === 'matmulnbits' && blockSize < MATMULNBITS_MIN_BLOCK) f.fail(`'format' "matmulnbits" needs 'blockSize' ${MATMULNBITS_MIN_BLOCK} or more, not ${blockSize}`);
      step = {
        transform: 'quantize', ...base, dtype, granularity, symmetric, blockSize, mode, method, damp, actOrder,
        format, ...(format === 'matmulnbits' ? { accuracyLevel: accuracyLevel ?? 4 } : {}),
        ...(mode === 'static' || method === 'gptq' ? { calibration: parseCalibration(calibration ?? {}, `${where} calibration`, mode, lenient) } : {}),
      };
      break;
    }
    case 'prune': {
      const pattern = f.string('pattern', param(P, 'pattern', 'text'));
      const nm = N_OF_M.exec(pattern);
      if (pattern !== 'unstructured' && pattern !== 'channel' && !(nm && +nm[1] >= 1 && +nm[1] < +nm[2] && +nm[2] <= 64)) {
        f.fail(`'pattern' must be "unstructured", "channel" or "N:M" with 1 ≤ N < M ≤ 64, not ${JSON.stringify(pattern)}`);
      }
      const given = f.number('sparsity', param(P, 'sparsity', 'number'), nm ? 1 - +nm[1] / +nm[2] : undefined);
      const sparsity = given ?? f.fail(`'sparsity' is required for pattern "${pattern}"`);
      if (nm && Math.abs(sparsity - (1 - +nm[1] / +nm[2])) > 1e-9) f.fail(`'sparsity' ${sparsity} contradicts pattern "${pattern}"`);
      const scope: 'layer' | 'global' = f.choice('scope', param(P, 'scope', 'choice'));
      if (scope === 'global' && pattern !== 'unstructured') f.fail(`'scope' "global" applies to unstructured pruning only`);
      const norm: 'l1' | 'l2' = f.choice('norm', param(P, 'norm', 'choice'));
      step = { transform: 'prune', ...base, sparsity, pattern, scope, norm };
      break;
    }
    case 'cluster': {
      step = {
        transform: 'cluster', ...base,
        clusters: f.number('clusters', param(K, 'clusters', 'number')) as number,
        keepZero: f.boolean('keepZero', param(K, 'keepZero', 'boolean')),
        init: f.choice('init', param(K, 'init', 'choice')),
        seed: f.number('seed', param(K, 'seed', 'number')) as number,
      };
      break;
    }
    case 'factorize': {
      const rank = f.number('rank', param(F, 'rank', 'number'));
      const energy = f.number('energy', param(F, 'energy', 'number'));
      if (rank === undefined && energy === undefined) f.fail(`give 'rank' or 'energy'`);
      if (rank !== undefined && energy !== undefined) f.fail(`give 'rank' or 'energy', not both`);
      step = { transform: 'factorize', ...base, rank, energy };
      break;
    }
    default:
      throw new OnnxError('recipe', `'transform' must be "quantize", "prune", "cluster" or "factorize", not ${JSON.stringify(o.transform)}`, where);
  }
  // An N:M pattern's sparsity, when given, was checked against the pattern above.
  f.applies(TRANSFORMS[step.transform].params, step as unknown as Json, ['sparsity']);
  f.finish();
  return step;
}

function parseCalibration(o: Json, where: string, mode: QuantizeStep['mode'], lenient: boolean): CalibrationSettings {
  const f = new Fields(o, where, lenient);
  const method: CalibrationMethod = f.choice('method', param(CALIBRATION, 'method', 'choice'));
  const data = f.string('data', param(CALIBRATION, 'data', 'text'));
  const samples = f.number('samples', param(CALIBRATION, 'samples', 'number')) as number;
  const percentile = f.number('percentile', param(CALIBRATION, 'percentile', 'number')) as number;
  const reduceRange = f.boolean('reduceRange', param(CALIBRATION, 'reduceRange', 'boolean'));
  const shapes = f.object('shapes');
  const maxDim = param(CALIBRATION, 'shapes', 'shapes').maxDim;
  for (const [k, v] of Object.entries(shapes ?? {})) {
    if (!Array.isArray(v) || v.some((d) => !Number.isInteger(d) || d < 1 || d > maxDim)) f.fail(`'shapes' entry '${k}' must be a list of positive integers`);
  }
  f.applies(CALIBRATION, { ...o, method, mode });
  f.finish(['transform', 'layers', 'exclude']);
  return { method, ...(data ? { data } : {}), samples, percentile, reduceRange, ...(shapes ? { shapes: shapes as Record<string, number[]> } : {}) };
}

function bitsOf(dtype: QuantDType): number {
  return dtype === 'float16' ? 16 : dtype.endsWith('4') ? 4 : 8;
}

export function parseRecipe(raw: unknown): Recipe {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new OnnxError('recipe', 'a recipe must be a JSON object', 'recipe');
  const o = raw as Json;
  if (o.version === undefined) throw new OnnxError('recipe', `'version' is missing: a recipe starts with "version": 1`, 'recipe');
  if (o.version !== 1) throw new OnnxError('recipe', `'version' must be 1, not ${JSON.stringify(o.version)}`, 'recipe');
  if (!Array.isArray(o.steps)) throw new OnnxError('recipe', `'steps' must be a list`, 'recipe');
  const extra = Object.keys(o).filter((k) => !(RECIPE_FIELDS as readonly string[]).includes(k));
  if (extra.length) throw new OnnxError('recipe', `unknown field${extra.length > 1 ? 's' : ''} ${unknownNames(extra, RECIPE_FIELDS)}`, 'recipe');
  if (o.model !== undefined && (typeof o.model !== 'string' || !o.model)) throw new OnnxError('recipe', `'model' must be a file path (relative to the recipe)`, 'recipe');
  const steps = o.steps.map((s, i) => parseStep(s, `recipe step ${i + 1}`));
  return { version: 1, steps, ...(o.model ? { model: o.model as string } : {}) };
}

/**
 * The step as recipe JSON, every parameter that applies spelled out (so later defaults cannot
 * change it); those that do not apply are left out, as the parser refuses them.
 */
export function stepToJson(step: RecipeStep): Json {
  const out: Json = { ...step };
  if (step.exclude.length === 0) delete out.exclude;
  for (const k of notApplying(TRANSFORMS[step.transform].params, out, out)) delete out[k];
  if (step.transform === 'quantize' && step.calibration) {
    const cal: Json = { ...step.calibration };
    for (const k of notApplying(CALIBRATION, cal, { ...cal, mode: step.mode })) delete cal[k];
    out.calibration = cal;
  }
  for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
  return out;
}
