/**
 * Recognizes the chains src/transforms/maskedStorage.ts writes for masked weights, so the
 * analysis (which layer owns what) and the transforms (a dense view) agree on one definition:
 *
 *   mask → Reshape → BitShift([0..7]) → Mod → Cast → Reshape → (Slice) → CumSum(axis 0) → Mul
 *   → Reshape(dims) = positions;  Gather(values, positions) = the weight
 *
 * where `values` is a stored tensor (prune: a zero, then the non-zeros) or Gather(codebook,
 * Cast(indices)) (cluster with keepZero: the zero's code, then the non-zeros' codes). Generic over
 * how stored tensors are held (TensorProto for the transforms, StoredTensor for the analysis).
 */
import { DataType } from '../core/onnx/dataTypes';
import type { NodeProto } from '../core/onnx/proto';

export interface MaskedChainLookup<T> {
  producer(value: string): NodeProto | undefined;
  /** The stored tensor a value name refers to. */
  stored(value: string): T | undefined;
  dataType(t: T): number;
  /** Its bytes in raw_data layout, when at hand without reading a side file. */
  bytes(t: T): Uint8Array | undefined;
}

export interface MaskedChain<T> {
  /** The Gather that outputs the dense weight. */
  readonly gather: NodeProto;
  /** Every node of the chain, the Gather first. */
  readonly nodes: readonly NodeProto[];
  /** Every stored tensor the chain reads (the codebook too). */
  readonly stored: readonly T[];
  /** UINT8, bit i of byte k = element 8k+i is not zero. */
  readonly mask: T;
  /** Entry 0 the zero, entry r the r-th non-zero: values, or indices into `codebook`. */
  readonly values: T;
  readonly codebook?: T;
  /** The dense weight's shape. */
  readonly dims: readonly number[];
}

const isDefault = (n: NodeProto): boolean => (n.domain ?? '') === '' || n.domain === 'ai.onnx';
const axisOf = (n: NodeProto): number => Number(n.attribute.find((a) => a.name === 'axis')?.i ?? 0);

function int64s(bytes: Uint8Array | undefined): number[] | undefined {
  if (!bytes || bytes.length % 8) return undefined;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  return Array.from({ length: bytes.length / 8 }, (_, i) => Number(v.getBigInt64(i * 8, true)));
}

/** The masked weight `gather` outputs, when it is exactly one of the chains maskedStorage.ts writes. */
export function readMaskedChain<T>(gather: NodeProto, lookup: MaskedChainLookup<T>): MaskedChain<T> | undefined {
  if (gather.opType !== 'Gather' || !isDefault(gather) || axisOf(gather) !== 0) return undefined;
  const nodes: NodeProto[] = [gather];
  const stored: T[] = [];
  const from = (value: string | undefined, op: string): NodeProto | undefined => {
    const n = value === undefined ? undefined : lookup.producer(value);
    if (!n || n.opType !== op || !isDefault(n)) return undefined;
    nodes.push(n);
    return n;
  };
  const constant = (value: string | undefined): T | undefined => {
    const t = value === undefined ? undefined : lookup.stored(value);
    if (t !== undefined) stored.push(t);
    return t;
  };
  const int64Constant = (value: string | undefined): number[] | undefined => {
    const t = constant(value);
    return t !== undefined && lookup.dataType(t) === DataType.Int64 ? int64s(lookup.bytes(t)) : undefined;
  };

  // The values: stored (prune), or looked up in a codebook by stored indices (cluster).
  let values = constant(gather.input[0]);
  let codebook: T | undefined;
  if (values === undefined) {
    const lookUp = from(gather.input[0], 'Gather');
    const wide = lookUp && axisOf(lookUp) === 0 ? from(lookUp.input[1], 'Cast') : undefined;
    codebook = wide && constant(lookUp!.input[0]);
    values = codebook !== undefined ? constant(wide!.input[0]) : undefined;
    if (values === undefined) return undefined;
  }

  const shaped = from(gather.input[1], 'Reshape');
  const mul = shaped && from(shaped.input[0], 'Mul');
  const cumsum = mul && from(mul.input[0], 'CumSum');
  if (!cumsum || cumsum.input[0] !== mul!.input[1]) return undefined;
  const dims = int64Constant(shaped!.input[1]);
  if (!dims || dims.some((d) => !Number.isSafeInteger(d) || d < 0) || int64Constant(cumsum.input[1])?.[0] !== 0) return undefined;
  const slice = lookup.producer(cumsum.input[0])?.opType === 'Slice' ? from(cumsum.input[0], 'Slice') : undefined;
  if (slice && (constant(slice.input[1]) === undefined || constant(slice.input[2]) === undefined)) return undefined;
  const flat = from(slice ? slice.input[0] : cumsum.input[0], 'Reshape');
  const cast = flat && from(flat.input[0], 'Cast');
  const mod = cast && from(cast.input[0], 'Mod');
  const shift = mod && from(mod.input[0], 'BitShift');
  const column = shift && from(shift.input[0], 'Reshape');
  if (!column) return undefined;
  const shifts = constant(shift!.input[1]);
  const mask = constant(column.input[0]);
  if (mask === undefined || lookup.dataType(mask) !== DataType.Uint8) return undefined;
  if (shifts === undefined || lookup.bytes(shifts)?.join() !== '0,1,2,3,4,5,6,7') return undefined;
  if ([flat!.input[1], mod!.input[1], column.input[1]].some((v) => constant(v) === undefined)) return undefined;
  return { gather, nodes, stored, mask, values, ...(codebook !== undefined ? { codebook } : {}), dims };
}
