/**
 * The real values behind a stored weight that is not stored as its values: integer codes with a
 * scale (DequantizeLinear, ConvInteger, QLinearConv...), MatMulNBits' packed blocks, or indices
 * into a codebook (our clustering). The linear form is here, as DequantizeLinear computes it:
 * (q - zero_point) * scale in float32, with one scale for the tensor, one per slice along `axis`,
 * or (opset 21 blocks) one per `blockSize` consecutive elements along `axis`. Applied chunk by
 * chunk in place, so the statistics of a quantized layer describe its weights, not its codes.
 */
export type DequantizeParams = LinearDequantize | NBitsDequantize | CodebookDequantize | MaskedDequantize;

export interface LinearDequantize {
  readonly kind: 'linear';
  readonly scale: Float32Array;
  readonly zeroPoint: Float32Array | null;
  readonly axis: number;
  /** 0: per tensor (one scale) or per axis (one per slice); > 0: blocks of this many along `axis`. */
  readonly blockSize: number;
  /** Identifies the parameters, for caches. */
  readonly key: string;
}

/**
 * MatMulNBits' weight: B is [N, blocks, blob] bytes, each byte `8 / bits` codes low bits first,
 * the real weight W[k, n] = (code - zeroPoint[n, block]) * scale[n, block], read as [N, K].
 */
export interface NBitsDequantize {
  readonly kind: 'nbits';
  readonly bits: number;
  readonly k: number;
  readonly n: number;
  readonly blockSize: number;
  /** [N * blocks] */
  readonly scale: Float32Array;
  /** [N * blocks], unpacked (2^(bits-1) where the model has none). */
  readonly zeroPoint: Float32Array;
  readonly key: string;
}

/** Indices into a codebook: the real value of index i is codebook[i] (NaN when out of range, as it would fail in the model). */
export interface CodebookDequantize {
  readonly kind: 'codebook';
  readonly codebook: Float32Array;
  readonly key: string;
}

/** A masked weight of `dims`: element i is 0 where bit i of the mask is clear, else the next non-zero. */
export interface MaskedDequantize {
  readonly kind: 'masked';
  readonly dims: readonly number[];
  /** Bit i of byte k: element 8k+i is not zero. */
  readonly mask: Uint8Array;
  /** Entry 0 the zero, entry r the r-th non-zero (codebook entries already looked up). */
  readonly values: Float32Array;
  readonly key: string;
}

/** Replaces indices by their codebook values, in place. */
export function lookUpChunk(v: Float32Array, codebook: Float32Array): void {
  for (let i = 0; i < v.length; i++) {
    const c = codebook[v[i]];
    v[i] = c === undefined ? NaN : c;
  }
}

/** Dequantizes `v` (elements first … first + v.length of a tensor with `dims`) in place. */
export function dequantizeChunk(v: Float32Array, first: number, dims: readonly number[], p: LinearDequantize): void {
  const { scale, zeroPoint } = p;
  if (scale.length === 1) {
    const s = scale[0];
    const z = zeroPoint ? zeroPoint[0] : 0;
    for (let i = 0; i < v.length; i++) v[i] = (v[i] - z) * s;
    return;
  }
  const axis = p.axis < 0 ? p.axis + dims.length : p.axis;
  let inner = 1;
  for (let d = axis + 1; d < dims.length; d++) inner *= dims[d];
  const size = dims[axis];
  const blocks = p.blockSize > 0 ? Math.ceil(size / p.blockSize) : size;
  // Runs of `inner` elements share the position along the axis (and so, per axis, one scale).
  let run = Math.floor(first / inner);
  let i = 0;
  let runEnd = inner - (first % inner);
  while (i < v.length) {
    const end = Math.min(v.length, runEnd);
    const along = run % size;
    const outer = Math.floor(run / size);
    if (p.blockSize > 0) {
      // Scale shape: dims with the axis cut to `blocks`; index (outer, along / blockSize, offset in run).
      const base = (outer * blocks + Math.floor(along / p.blockSize)) * inner;
      let offset = (first + i) % inner;
      for (; i < end; i++, offset++) v[i] = (v[i] - (zeroPoint ? zeroPoint[base + offset] : 0)) * scale[base + offset];
    } else {
      const s = scale[along];
      const z = zeroPoint ? zeroPoint[along] : 0;
      for (; i < end; i++) v[i] = (v[i] - z) * s;
    }
    run++;
    runEnd += inner;
  }
}

/** Whether the scale's size fits the tensor and the parameters (else the statistics stay on the codes). */
export function dequantizeFits(dims: readonly number[], scaleElements: number, axis: number, blockSize: number): boolean {
  if (scaleElements === 1) return true;
  const a = axis < 0 ? axis + dims.length : axis;
  if (a < 0 || a >= dims.length) return false;
  if (blockSize <= 0) return scaleElements === dims[a];
  const elements = dims.reduce((n, d) => n * d, 1);
  return scaleElements === (elements / dims[a]) * Math.ceil(dims[a] / blockSize);
}
