/**
 * The words a recipe step speaks, in one place: each transform's parameters with their type,
 * allowed values or range, default, label and one line of help. The recipe parser
 * (transforms/recipe.ts), the JSON schema (transforms/recipeSchema.ts writes
 * schemas/recipe.schema.json), the editor's form, the presets and the preview all read them here.
 *
 * One rule for quantize's scales: 4-bit types default to blocks of 32 along the reduction axis
 * (a scale per 32 weights keeps 4-bit error in reach of 8-bit per-channel error), 8-bit types
 * to one scale per output channel; FLOAT16 has no scales.
 */

export type TransformName = 'quantize' | 'prune' | 'cluster' | 'factorize';
export const TRANSFORM_NAMES: readonly TransformName[] = ['quantize', 'prune', 'cluster', 'factorize'];

/** A step's parameters as given so far (recipe JSON, a form's values, a preset). */
export type StepValues = Readonly<Record<string, unknown>>;

interface ParamBase {
  readonly label: string;
  readonly help: string;
  /** Left to recipes: the editor's form does not show it. */
  readonly advanced?: boolean;
  /**
   * The parameter only means something when this holds: the form hides it otherwise, the parser
   * refuses it when given, and a step written back as JSON leaves it out.
   */
  readonly when?: (values: StepValues) => boolean;
  /** What `when` asks for, in words: "'granularity' \"block\"" reads "… applies to 'granularity' \"block\" only". */
  readonly appliesTo?: string;
}

export interface ChoiceParam<T extends string = string> extends ParamBase {
  readonly kind: 'choice';
  readonly options: readonly T[];
  /** A value, or a rule over the other parameters (quantize's granularity follows its dtype). */
  readonly default?: T | ((values: StepValues) => T);
  /** How the default reads when it is a rule (for the schema's description). */
  readonly defaultRule?: string;
}

export interface NumberParam extends ParamBase {
  readonly kind: 'number';
  readonly min: number;
  readonly max: number;
  readonly integer?: boolean;
  readonly powerOfTwo?: boolean;
  /** The only values allowed (quantize's `bits` shorthand). */
  readonly values?: readonly number[];
  readonly default?: number;
  /** Where the form starts when the recipe has no default (the parameter is required, or one of a pair). */
  readonly start?: number;
  /** The form's increment. */
  readonly step?: number;
  /** The values the form offers in a list instead of a free number. */
  readonly suggestions?: readonly number[];
}

export interface BooleanParam extends ParamBase {
  readonly kind: 'boolean';
  readonly default: boolean;
}

export interface TextParam extends ParamBase {
  readonly kind: 'text';
  /** A regular expression the whole value matches (the parser checks what it cannot say). */
  readonly pattern?: string;
  readonly default?: string;
  readonly suggestions?: readonly string[];
}

/** Input shapes by input name (calibration's random inputs). */
export interface ShapesParam extends ParamBase {
  readonly kind: 'shapes';
  readonly maxDim: number;
}

export type ParamSpec = ChoiceParam | NumberParam | BooleanParam | TextParam | ShapesParam;

export interface TransformSpec {
  /** The verb, as the form's transform list and edit labels say it. */
  readonly label: string;
  readonly help: string;
  readonly params: Readonly<Record<string, ParamSpec>>;
  /** Exactly one of these parameters is given (factorize: rank or energy). */
  readonly oneOf?: readonly string[];
}

export const QUANT_DTYPES = ['int8', 'uint8', 'int4', 'uint4', 'float16'] as const;
export type QuantDType = (typeof QUANT_DTYPES)[number];
export const GRANULARITIES = ['per-tensor', 'per-channel', 'block'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy'] as const;
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

/** The one rule for quantize's default scales (see the top of this file). */
export function defaultGranularity(dtype: unknown): Granularity {
  return typeof dtype === 'string' && dtype.endsWith('4') ? 'block' : 'per-channel';
}

const notFloat16 = (v: StepValues): boolean => v.dtype !== 'float16';
const INTEGER_TYPES = 'integer types (not \'dtype\' "float16")';
/** onnxruntime's MatMulNBits takes blocks of 16 weights or more. */
export const MATMULNBITS_MIN_BLOCK = 16;

/** Layers up to this wide (the smaller of K and N) ran slower as MatMulNBits than as float GEMM in our measurements (docs/benchmarks.md): what the help, the slowdown diagnosis and the verdict say. */
export const NBITS_SMALL_WIDTH = 512;
const prunesByFraction = (v: StepValues): boolean => v.pattern === undefined || v.pattern === 'unstructured' || v.pattern === 'channel';

export const TRANSFORMS: Readonly<Record<TransformName, TransformSpec>> = {
  quantize: {
    label: 'Quantize',
    help: 'Weight-only quantization: integer codes + scales (+ zero points) + DequantizeLinear, or FLOAT16 + Cast.',
    params: {
      dtype: { kind: 'choice', label: 'Type', help: 'The stored type of the weights.', options: QUANT_DTYPES, default: 'int8' },
      bits: {
        kind: 'number', label: 'Bits', advanced: true, min: 4, max: 16, integer: true, values: [4, 8, 16],
        help: 'Shorthand for dtype: 8 → int8 (uint8 when not symmetric), 4 → int4, 16 → float16.',
      },
      granularity: {
        kind: 'choice', label: 'Scales', help: 'One scale per tensor, per output channel, or per block along the reduction axis.',
        options: GRANULARITIES, default: (v) => defaultGranularity(v.dtype ?? 'int8'), defaultRule: 'block for int4 and uint4, per-channel otherwise', when: notFloat16, appliesTo: INTEGER_TYPES,
      },
      blockSize: {
        kind: 'number', label: 'Block', help: 'A power of two; elements per scale along the reduction axis.',
        min: 2, max: 1 << 20, integer: true, powerOfTwo: true, default: 32, suggestions: [16, 32, 64, 128, 256],
        when: (v) => notFloat16(v) && (v.granularity ?? defaultGranularity(v.dtype ?? 'int8')) === 'block', appliesTo: '\'granularity\' "block"',
      },
      symmetric: { kind: 'boolean', label: 'Symmetric', help: 'Codes centred on zero (no zero points).', default: true, when: notFloat16, appliesTo: INTEGER_TYPES },
      mode: {
        kind: 'choice', label: 'Mode', advanced: true, options: ['weights', 'static'], default: 'weights',
        help: "weights: weight-only; static: activations too (QDQ for onnxruntime's integer kernels), calibrated by running the model.",
      },
      method: {
        kind: 'choice', label: 'Method', options: ['rtn', 'gptq'], default: 'rtn',
        help: 'rtn: each weight rounded to its nearest code; gptq: MatMul, Gemm and Conv weights rounded one input row at a time, each row\'s error spread over the rows left, weighted by the layer\'s input statistics from calibration (GPTQ).',
        when: (v) => notFloat16(v) && (v.mode ?? 'weights') === 'weights', appliesTo: 'weight-only integer quantization',
      },
      damp: {
        kind: 'number', label: 'GPTQ damping', advanced: true, min: 0, max: 1, default: 0.01,
        help: "GPTQ: the fraction of the Hessian's mean diagonal added to its diagonal (keeps the inverse stable).",
        when: (v) => v.method === 'gptq', appliesTo: '\'method\' "gptq"',
      },
      actOrder: {
        kind: 'boolean', label: 'GPTQ activation order', advanced: true, default: false,
        help: 'GPTQ: quantize inputs by decreasing Hessian diagonal (the most active first); block scales then come from the weights before any update.',
        when: (v) => v.method === 'gptq', appliesTo: '\'method\' "gptq"',
      },
      format: {
        kind: 'choice', label: 'Format', options: ['qdq', 'matmulnbits'], default: 'qdq',
        help: `qdq: DequantizeLinear (standard ONNX, any runtime); matmulnbits: onnxruntime's MatMulNBits for MatMul and Gemm layers (4-/8-bit kernels: faster than float for single-token steps and large layers, slower on layers ≲ ${NBITS_SMALL_WIDTH} wide or many-token inputs), GatherBlockQuantized for embedding Gathers.`,
        when: (v) => notFloat16(v) && (v.granularity ?? defaultGranularity(v.dtype ?? 'int8')) === 'block' && (v.mode ?? 'weights') === 'weights',
        appliesTo: '\'granularity\' "block" in weight-only quantization',
      },
      accuracyLevel: {
        kind: 'number', label: 'Accuracy level', advanced: true, min: 0, max: 4, integer: true, start: 4,
        help: "MatMulNBits' accuracy_level (4 when not given): 4 computes in int8 (onnxruntime's fastest on CPU), 1 in float32, 0 leaves it to the runtime.",
        when: (v) => v.format === 'matmulnbits', appliesTo: '\'format\' "matmulnbits"',
      },
    },
  },
  prune: {
    label: 'Prune',
    help: 'Magnitude pruning: unstructured, N:M along the reduction axis, or whole output channels removed.',
    params: {
      pattern: {
        kind: 'text', label: 'Pattern', help: '"unstructured", "channel" (whole output channels), or "N:M" (keep N of every M along the reduction axis).',
        pattern: '^(unstructured|channel|[0-9]+:[0-9]+)$', default: 'unstructured', suggestions: ['unstructured', 'channel', '2:4', '1:4', '4:8'],
      },
      sparsity: {
        kind: 'number', label: 'Sparsity', help: 'Fraction of weights (or channels) removed; implied by an N:M pattern.',
        min: 0, max: 0.99, start: 0.5, step: 0.05, when: prunesByFraction, appliesTo: 'patterns "unstructured" and "channel" (an N:M pattern implies it)',
      },
      scope: {
        kind: 'choice', label: 'Threshold', help: 'layer: each layer pruned to the sparsity; global: one magnitude threshold across the selected layers.',
        options: ['layer', 'global'], default: 'layer', when: (v) => (v.pattern ?? 'unstructured') === 'unstructured',
        appliesTo: '\'pattern\' "unstructured"',
      },
      norm: {
        kind: 'choice', label: 'Channel norm', advanced: true, help: 'How output channels are ranked for pattern "channel".', options: ['l1', 'l2'], default: 'l1',
        when: (v) => v.pattern === 'channel', appliesTo: '\'pattern\' "channel"',
      },
    },
  },
  cluster: {
    label: 'Cluster',
    help: 'Weight sharing: a k-entry codebook + indices + Gather.',
    params: {
      clusters: { kind: 'number', label: 'Clusters', help: 'Shared values per weight (the codebook size).', min: 2, max: 256, integer: true, default: 16, step: 1 },
      keepZero: { kind: 'boolean', label: 'Keep zeros', help: 'Keep exact zeros exact: one cluster is fixed at 0.', default: false },
      init: { kind: 'choice', label: 'Start', advanced: true, help: 'k-means++ seeding, or the optimal 1-D clustering.', options: ['kmeans++', 'optimal'], default: 'kmeans++' },
      seed: {
        kind: 'number', label: 'Seed', advanced: true, help: 'Seed of the k-means++ start.', min: 0, max: 2 ** 32 - 1, integer: true, default: 1,
        when: (v) => (v.init ?? 'kmeans++') === 'kmeans++', appliesTo: '\'init\' "kmeans++"',
      },
    },
  },
  factorize: {
    label: 'Factorize',
    help: 'Low-rank factorization (truncated SVD) of MatMul, Gemm and Conv weights.',
    oneOf: ['energy', 'rank'],
    params: {
      energy: {
        kind: 'number', label: 'Energy kept', help: 'Fraction of the singular-value energy to keep (the smallest rank that does).',
        min: 0.01, max: 1, start: 0.99, step: 0.005,
      },
      rank: { kind: 'number', label: 'Rank', help: 'The rank of the factors.', min: 1, max: 1 << 20, integer: true, start: 32, step: 1 },
    },
  },
};

/**
 * Quantize's `calibration` object (static mode, and weight-only with method gptq: then only data,
 * samples and shapes matter). Its `when`s see its own values and the step's `mode`.
 */
const STATIC = (v: StepValues): boolean => v.mode === 'static';
export const CALIBRATION: Readonly<Record<string, ParamSpec>> = {
  method: {
    kind: 'choice', label: 'Method', help: 'How activation ranges are chosen from the collected statistics.', options: CALIBRATION_METHODS, default: 'minmax',
    when: STATIC, appliesTo: '\'mode\' "static"',
  },
  data: {
    kind: 'text', label: 'Data', default: '',
    help: 'A .npz file (one array per model input, samples along the first axis) or a folder of <input>.npy files, relative to the recipe file. Seeded random inputs in [-1, 1) when absent.',
  },
  samples: { kind: 'number', label: 'Samples', help: 'Calibration inputs run through the model.', min: 1, max: 100_000, integer: true, default: 16 },
  percentile: {
    kind: 'number', label: 'Percentile', help: 'Percent of |x| kept by the percentile method.', min: 50, max: 100, default: 99.99,
    when: (v) => STATIC(v) && v.method === 'percentile', appliesTo: '\'method\' "percentile" in static mode',
  },
  reduceRange: {
    kind: 'boolean', label: 'Reduce range', help: '7-bit weights, against U8S8 saturation on x86 CPUs without VNNI.', default: true,
    when: STATIC, appliesTo: '\'mode\' "static"',
  },
  shapes: { kind: 'shapes', label: 'Shapes', help: 'Input shapes for random calibration inputs where the model leaves dims symbolic.', maxDim: 1 << 20 },
};

/** The parameters given in `given` that do not apply to a step whose values (defaults filled in) are `values`. */
export function notApplying(params: Readonly<Record<string, ParamSpec>>, given: StepValues, values: StepValues): string[] {
  return Object.keys(given).filter((k) => given[k] !== undefined && params[k]?.when && !params[k].when!(values));
}

/** The default of a parameter given the others (undefined: none; the parameter is required or optional). */
export function defaultOf(param: ParamSpec, values: StepValues): unknown {
  if (param.kind === 'shapes') return undefined;
  return typeof param.default === 'function' ? param.default(values) : param.default;
}

/** A parameter's value in a step: as given, else its default, else where the form starts. */
export function valueOf(transform: TransformName, key: string, values: StepValues): unknown {
  const param = TRANSFORMS[transform].params[key];
  if (values[key] !== undefined || !param) return values[key];
  return defaultOf(param, values) ?? (param.kind === 'number' ? param.start : undefined);
}
