/**
 * Options that name model inputs and their dims (`--shape NAME=…`, `--dim NAME=N`, calibration
 * shapes) must name real ones and fit them: eval's synthetic inputs and analyze's MACs check them
 * here, with the same words.
 */
import { OnnxError } from './errors';
import { didYouMean } from './didYouMean';

/** `listing`: the inputs as the message shows them (with dims and types, where the caller has them). */
export function checkInputNames(given: Iterable<string>, inputs: readonly string[], option: string, listing = inputs.join(', ') || 'none', where?: string): void {
  for (const name of given) {
    if (inputs.includes(name)) continue;
    throw new OnnxError('unsupported', `${option} names '${name}', which is not an input of the model${didYouMean(name, inputs)}; its inputs: ${listing}`, where);
  }
}

/** A model input as the shape options see it: dims, symbolic ones as names ('' or '?' when unnamed) or -1. */
export interface InputDims {
  readonly name: string;
  readonly type: string;
  readonly shape: readonly (number | string)[];
}

export const isSymbolicDim = (d: number | string): boolean => typeof d !== 'number' || d < 0;
const dimName = (d: number | string): string | undefined => (typeof d === 'string' && d !== '' && d !== '?' ? d : undefined);
const dimText = (d: number | string): string => (isSymbolicDim(d) ? (dimName(d) ?? '?') : String(d));

/** "input [batch, 3, 224, 224] float32; sr [] int64": what the messages about shapes and values list. */
export function inputListing(inputs: readonly InputDims[]): string {
  return inputs.map((i) => `${i.name} [${i.shape.map(dimText).join(', ')}] ${i.type}`).join('; ');
}

/** Why a whole shape given for an input does not fit it (another rank, a dim the model fixes), or undefined. */
export function shapeMismatch(input: InputDims, given: readonly number[]): string | undefined {
  if (given.length !== input.shape.length) return `--shape ${input.name} has ${given.length} dims; the input has ${input.shape.length}`;
  const fixed = input.shape.findIndex((d, k) => !isSymbolicDim(d) && d !== given[k]);
  return fixed >= 0 ? `--shape ${input.name}: axis ${fixed} (0-based) of input '${input.name}' is fixed at ${input.shape[fixed]} in the model` : undefined;
}

/**
 * `--shape` and `--dim` against the model's inputs: an input or dim name the model does not have,
 * a shape of another rank, or one that changes a fixed dim is an error listing the inputs.
 */
export function checkUserShapes(
  inputs: readonly InputDims[], user: { readonly shapes?: Readonly<Record<string, readonly number[]>>; readonly dims?: Readonly<Record<string, number>> }, where?: string,
): void {
  const listing = inputListing(inputs);
  checkInputNames(Object.keys(user.shapes ?? {}), inputs.map((i) => i.name), '--shape', listing, where);
  const named = [...new Set(inputs.flatMap((i) => i.shape.map(dimName).filter((d): d is string => d !== undefined)))];
  for (const name of Object.keys(user.dims ?? {})) {
    if (named.includes(name)) continue;
    const known = named.length ? `the model's named dims: ${named.join(', ')}` : 'no dim of this model has a name: give --shape INPUT=DxD';
    throw new OnnxError('unsupported', `--dim names no dim '${name}'${didYouMean(name, named)}; ${known} (inputs: ${listing})`, where);
  }
  for (const input of inputs) {
    const given = user.shapes?.[input.name];
    const why = given && shapeMismatch(input, given);
    if (why) throw new OnnxError('unsupported', `${why} (inputs: ${listing})`, where);
  }
}
