/** Model inputs and outputs as they cross to and from the onnxruntime process. */

/** float16 data are the raw half-precision bits (a Uint16Array), as onnxruntime-node takes them. */
export type TensorType = 'float32' | 'float16' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool' | 'float64';

export interface TensorData {
  readonly type: TensorType;
  readonly dims: readonly number[];
  readonly data: Float32Array | Uint16Array | BigInt64Array | Int32Array | Uint8Array | Int8Array | Float64Array;
}

/** One model run's inputs, by input name. */
export type Feed = Readonly<Record<string, TensorData>>;
