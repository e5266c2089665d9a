/** Model states: a message tree and the index built from it. */
import { indexModel } from '../core/onnx/modelIndex';
import { defaultTensorLimits } from '../core/onnx/tensor';
import type { ModelProto } from '../core/onnx/proto';
import type { ModelState } from './transform';

export function stateOf(proto: ModelProto, dir: string | undefined): ModelState {
  return { proto, dir, index: indexModel(proto, { modelDir: dir, limits: defaultTensorLimits }) };
}

/** Bytes of all stored tensors. */
export function storedBytes(state: ModelState): number {
  return state.index.tensors.reduce((n, t) => n + t.bytes, 0);
}
