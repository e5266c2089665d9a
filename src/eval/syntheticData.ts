/**
 * Seeded synthetic inputs of every type when there is no data: floats uniform in [-1, 1), token
 * ids uniform within the vocabulary of the embedding they index, masks all ones, positions
 * 0..n-1, and values the user gives (`--value sr=16000`) for scalars and other integers. Shapes
 * come from the model, from named dims (`--dim sequence=512`) and whole shapes (`--shape`); any
 * of those that names nothing in the model, and any input that still lacks something, is an
 * error that lists the model's inputs with their dims.
 */
import { OnnxError } from '../core/errors';
import { checkInputNames, checkUserShapes, inputListing, isSymbolicDim as symbolic } from '../core/inputNames';
import { float16Bits } from '../core/onnx/halfFloat';
import type { Dataset, DatasetSpec, InputInfo } from './datasetTypes';
import type { TensorData } from './feed';

type SyntheticSpec = Extract<DatasetSpec, { kind: 'synthetic' }>;
const WHERE = 'synthetic data';

const dimText = (d: number | string): string => (typeof d === 'number' && d >= 0 ? String(d) : typeof d === 'string' && d ? d : '?');

/** An input is batched when its first dim is symbolic; the others are fed whole, with batch 1. */
export function isBatched(input: InputInfo): boolean {
  return input.shape.length > 0 && symbolic(input.shape[0]);
}

function checkNames(spec: SyntheticSpec, inputs: readonly InputInfo[]): void {
  checkUserShapes(inputs, spec, WHERE);
  checkInputNames(Object.keys(spec.values ?? {}), inputs.map((i) => i.name), '--value', inputListing(inputs), WHERE);
}

/** The dims of one sample of an input (batch 1), or what is missing to know them (checkNames saw the given shapes fit). */
function sampleDims(spec: SyntheticSpec, input: InputInfo): number[] | string {
  const given = spec.shapes?.[input.name];
  if (given) return isBatched(input) ? [1, ...given.slice(1)] : [...given];
  const named: string[] = [];
  let unnamed = false;
  const dims = input.shape.map((d, k) => {
    if (!symbolic(d)) return d as number;
    if (k === 0) return 1;
    const value = typeof d === 'string' && d ? spec.dims?.[d] : undefined;
    if (value === undefined && typeof d === 'string' && d) named.push(`--dim ${d}=N`);
    else if (value === undefined) unnamed = true;
    return value ?? 0;
  });
  const whole = `--shape ${input.name}=${input.shape.map((d, k) => (!symbolic(d) ? d : k === 0 ? 1 : 'N')).join('x')}`;
  if (unnamed) return `input '${input.name}' has dims without names: give ${whole}`;
  return named.length ? `input '${input.name}' needs ${named.join(', ')} (or ${whole})` : dims;
}

type Kind = { fill: 'uniform' } | { fill: 'ids'; vocabulary: number } | { fill: 'value'; value: number } | { fill: 'ones' } | { fill: 'positions' } | { fill: 'bits' };

/** How one input's values are made, or why they cannot be. */
function kindOf(spec: SyntheticSpec, input: InputInfo, vocabularies: Readonly<Record<string, number>>): Kind | string {
  const value = spec.values?.[input.name];
  if (value !== undefined) return { fill: 'value', value };
  if (input.type === 'float32' || input.type === 'float16' || input.type === 'float64') return { fill: 'uniform' };
  const integer = ['int64', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'uint32'].includes(input.type);
  if (!integer && input.type !== 'bool') return `input '${input.name}' is ${input.type}: synthetic inputs cannot be made for it; give data`;
  if (/mask/i.test(input.name)) return { fill: 'ones' };
  if (input.type === 'bool') return { fill: 'bits' };
  if (vocabularies[input.name]) return { fill: 'ids', vocabulary: vocabularies[input.name] };
  if (/position/i.test(input.name) && input.shape.length > 0) return { fill: 'positions' };
  const what = input.shape.length === 0 ? `an ${input.type} scalar` : `${input.type} [${input.shape.map(dimText).join(', ')}] and indexes no embedding table`;
  // A tensor's one value fills all of it (16000 suits a sample rate, not token ids).
  return `input '${input.name}' is ${what}: give its value, e.g. --value ${input.name}=${input.shape.length === 0 ? 16000 : 0}`;
}

function tensor(type: string, dims: number[], values: Float64Array): TensorData {
  switch (type) {
    case 'float16': return { type: 'float16', dims, data: Uint16Array.from(values, float16Bits) };
    case 'float64': return { type: 'float64', dims, data: values };
    case 'int64': return { type: 'int64', dims, data: BigInt64Array.from(values, (v) => BigInt(Math.round(v))) };
    case 'int32': return { type: 'int32', dims, data: Int32Array.from(values) };
    case 'uint8': return { type: 'uint8', dims, data: Uint8Array.from(values) };
    case 'int8': return { type: 'int8', dims, data: Int8Array.from(values) };
    case 'bool': return { type: 'bool', dims, data: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
    default: return { type: 'float32', dims, data: Float32Array.from(values) };
  }
}

export function syntheticDataset(spec: SyntheticSpec, inputs: readonly InputInfo[], vocabularies: Readonly<Record<string, number>> = {}): Dataset {
  checkNames(spec, inputs);
  const plans = inputs.map((input) => {
    const dims = sampleDims(spec, input);
    const kind = kindOf(spec, input, vocabularies);
    return { input, dims, kind };
  });
  const problems = plans.flatMap((p) => [p.dims, p.kind].filter((x): x is string => typeof x === 'string'));
  if (problems.length) throw new OnnxError('unsupported', `${problems.join('; ')} (inputs: ${inputListing(inputs)})`, WHERE);
  const drawn = plans.flatMap((p) => {
    const k = p.kind as Kind;
    return k.fill === 'ids' ? [`${p.input.name}: token ids in [0, ${k.vocabulary}) from its embedding table`] : k.fill === 'value' ? [`${p.input.name} = ${k.value}`] : [];
  });
  return {
    size: spec.samples,
    labelled: false,
    synthetic: true,
    description: `${spec.samples} synthetic inputs (floats uniform in [-1, 1)${drawn.length ? `, ${drawn.join(', ')}` : ''}; seed ${spec.seed}): fidelity on synthetic inputs, not accuracy`,
    sample: async (index) => {
      let s = (spec.seed * 2654435761 + index * 40503) >>> 0;
      const random = (): number => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return s / 2 ** 32; // [0, 1)
      };
      const feed: Record<string, TensorData> = {};
      for (const p of plans) {
        const dims = p.dims as number[];
        const k = p.kind as Kind;
        const n = dims.reduce((a, b) => a * b, 1);
        const last = dims.at(-1) ?? 1;
        const values = Float64Array.from({ length: n }, (_, i) => {
          switch (k.fill) {
            case 'uniform': return Math.fround(random() * 2 - 1);
            case 'ids': return Math.floor(random() * k.vocabulary);
            case 'value': return k.value;
            case 'ones': return 1;
            case 'positions': return i % last;
            case 'bits': return random() < 0.5 ? 0 : 1;
          }
        });
        feed[p.input.name] = tensor(p.input.type, dims, values);
      }
      return { feed };
    },
  };
}
