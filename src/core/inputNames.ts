/** Options that name model inputs (`--shape NAME=…`, calibration shapes) must name real ones. */
import { OnnxError } from './errors';
import { didYouMean } from './didYouMean';

/** `listing`: the inputs as the message shows them (with dims and types, where the caller has them). */
export function checkInputNames(given: Iterable<string>, inputs: readonly string[], option: string, listing = inputs.join(', ') || 'none', where?: string): void {
  for (const name of given) {
    if (inputs.includes(name)) continue;
    throw new OnnxError('unsupported', `${option} names '${name}', which is not an input of the model${didYouMean(name, inputs)}; its inputs: ${listing}`, where);
  }
}
