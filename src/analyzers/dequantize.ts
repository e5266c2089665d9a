/**
 * The real values behind a quantized weight, as DequantizeLinear computes them:
 * (q - zero_point) * scale in float32, with one scale for the tensor, one per slice along `axis`,
 * or (opset 21 blocks) one per `blockSize` consecutive elements along `axis`. Applied chunk by
 * chunk in place, so the statistics of a quantized layer describe its weights, not its codes.
 */
export interface DequantizeParams {
  readonly scale: Float32Array;
  readonly zeroPoint: Float32Array | null;
  readonly axis: number;
  /** 0: per tensor (one scale) or per axis (one per slice); > 0: blocks of this many along `axis`. */
  readonly blockSize: number;
  /** Identifies the parameters, for caches. */
  readonly key: string;
}

/** Dequantizes `v` (elements first … first + v.length of a tensor with `dims`) in place. */
export function dequantizeChunk(v: Float32Array, first: number, dims: readonly number[], p: DequantizeParams): void {
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
