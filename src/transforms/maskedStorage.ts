/**
 * Masked storage for weights with many exact zeros: a bit mask of the non-zeros (UINT8, bit i of
 * byte k = element 8k+i) and the non-zero values in the weight's own type, preceded by one zero.
 * Standard opset-11 ops rebuild the dense weight from those constants only, so a runtime folds
 * the chain at load (onnxruntime does) and inference pays nothing:
 *
 *   mask [m] → Reshape [m,1] → BitShift(RIGHT, [0..7]) → Mod 2 → Cast INT64 → Reshape [8m]
 *   → Slice [0, n) → CumSum → Mul by the bit → Reshape(dims)          = positions
 *   Gather(values_ext, positions)                                     = the weight
 *
 * A position is the rank of a non-zero among the non-zeros (1-based) and 0 for a zero, which
 * picks the leading zero of values_ext. Gather copies elements whatever their type, so FLOAT16,
 * BFLOAT16 and DOUBLE need no Cast (BFLOAT16 needs opset 13's Gather). BitwiseAnd (opset 18) would save the Mod but force a raise.
 */
import { DataType } from '../core/onnx/dataTypes';
import type { AttributeProto, NodeProto, TensorProto } from '../core/onnx/proto';
import type { NameAllocator } from './names';
import { int4Tensor, int64Tensor, rawTensor, uint8Tensor } from './tensorBuild';
import { intAttr, makeNode, stringAttr } from './weightEdit';

/** The opset the rebuilding chain needs (BitShift, CumSum, Slice with inputs; Gather of BFLOAT16 from 13). */
export function maskedOpset(dataType: number): number {
  return dataType === DataType.BFloat16 ? 13 : 11;
}

/** Bit mask of the elements that are not 0 (bit i of byte k = element 8k+i). */
export function nonZeroMask(values: Float32Array): Uint8Array {
  const mask = new Uint8Array(Math.ceil(values.length / 8));
  for (let i = 0; i < values.length; i++) if (values[i] !== 0) mask[i >> 3] |= 1 << (i & 7);
  return mask;
}

export function countBits(mask: Uint8Array): number {
  let n = 0;
  for (const b of mask) for (let x = b; x; x &= x - 1) n++;
  return n;
}

/** Stored tensors and nodes that compute a value; `bytes` counts every stored byte. */
export interface MaskedPlan {
  readonly stored: TensorProto[];
  readonly nodes: NodeProto[];
  readonly bytes: number;
}

export function storedBytesOf(stored: readonly TensorProto[]): number {
  return stored.reduce((n, s) => n + (s.rawData?.length ?? 0), 0);
}

/**
 * The chain from a mask to the positions (INT64, shaped `dims`) into an array whose entry 0 is
 * the zero and entry r the r-th non-zero. Returns the positions' value name.
 */
export function maskPositions(names: NameAllocator, base: string, mask: Uint8Array, dims: readonly number[]): MaskedPlan & { output: string } {
  const n = dims.reduce((a, b) => a * b, 1);
  const m = mask.length;
  const fresh = (s: string): string => names.fresh(`${base}_${s}`);
  const maskT = uint8Tensor(fresh('mask'), [m], mask);
  const stored: TensorProto[] = [
    maskT,
    int64Tensor(fresh('mask_column'), [2], [m, 1]),
    uint8Tensor(fresh('mask_shifts'), [8], Uint8Array.of(0, 1, 2, 3, 4, 5, 6, 7)),
    uint8Tensor(fresh('mask_two'), [], Uint8Array.of(2)),
    int64Tensor(fresh('mask_flat'), [1], [8 * m]),
    int64Tensor(fresh('mask_axis'), [], [0]),
    int64Tensor(fresh('mask_dims'), [dims.length], dims),
  ];
  const [, column, shifts, two, flat, axis, dimsT] = stored.map((t) => t.name ?? '');
  const v = (s: string): string => fresh(s);
  const node = (op: string, input: string[], output: string, attrs: Partial<AttributeProto>[] = []): NodeProto =>
    makeNode(op, input, [output], names.fresh(`${base}_${op}`), attrs);
  const col = v('mask_col');
  const shifted = v('mask_shifted');
  const bitsU8 = v('mask_bits_u8');
  const bits = v('mask_bits');
  const flatBits = v('mask_bits_flat');
  const nodes: NodeProto[] = [
    node('Reshape', [maskT.name ?? '', column], col),
    node('BitShift', [col, shifts], shifted, [stringAttr('direction', 'RIGHT')]),
    node('Mod', [shifted, two], bitsU8),
    node('Cast', [bitsU8], bits, [intAttr('to', DataType.Int64)]),
    node('Reshape', [bits, flat], flatBits),
  ];
  let kept = flatBits;
  if (8 * m !== n) {
    // The last byte's unused bits are dropped.
    const start = int64Tensor(fresh('mask_start'), [1], [0]);
    const end = int64Tensor(fresh('mask_end'), [1], [n]);
    stored.push(start, end);
    kept = v('mask_bits_n');
    nodes.push(node('Slice', [flatBits, start.name ?? '', end.name ?? ''], kept));
  }
  const rank = v('mask_rank');
  const positions = v('mask_positions');
  const shaped = v('mask_positions_shaped');
  nodes.push(
    node('CumSum', [kept, axis], rank),
    node('Mul', [rank, kept], positions),
    node('Reshape', [positions, dimsT], shaped),
  );
  return { stored, nodes, bytes: storedBytesOf(stored), output: shaped };
}

/**
 * Masked storage of a weight whose stored bytes are `raw` (`width` bytes an element, zeros where
 * `values` is 0): the last node outputs `name`, so consumers are unchanged.
 */
export function maskedWeight(names: NameAllocator, name: string, dataType: number, dims: readonly number[], raw: Uint8Array, values: Float32Array, width: number): MaskedPlan {
  const mask = nonZeroMask(values);
  const nnz = countBits(mask);
  // values_ext: a zero (position 0), then the non-zeros' bytes as stored, bit for bit.
  const ext = new Uint8Array((nnz + 1) * width);
  let at = width;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === 0) continue;
    ext.set(raw.subarray(i * width, (i + 1) * width), at);
    at += width;
  }
  const valuesT = rawTensor(names.fresh(`${name}_nonzeros`), dataType, [nnz + 1], ext);
  const positions = maskPositions(names, name, mask, dims);
  const gather = makeNode('Gather', [valuesT.name ?? '', positions.output], [name], names.fresh(`${name}_Gather`), [intAttr('axis', 0)]);
  const stored = [valuesT, ...positions.stored];
  return { stored, nodes: [...positions.nodes, gather], bytes: storedBytesOf(stored) };
}

/**
 * Masked cluster indices: the codes of the non-zero weights (after the zero's code, at position
 * 0) pick their values from the codebook, and the mask places them. `restored` is the clustered
 * weight, `codes` its codebook indices, `zeroCode` the index of the codebook's exact 0.
 */
export function maskedCodes(
  names: NameAllocator, name: string, dims: readonly number[], restored: Float32Array, codes: Int32Array,
  zeroCode: number, codebook: string, nibbles: boolean,
): MaskedPlan {
  const mask = nonZeroMask(restored);
  const ext = [zeroCode];
  for (let i = 0; i < restored.length; i++) if (restored[i] !== 0) ext.push(codes[i]);
  const indicesName = names.fresh(`${name}_indices`);
  const indices = nibbles ? int4Tensor(indicesName, [ext.length], ext, true) : uint8Tensor(indicesName, [ext.length], Uint8Array.from(ext));
  const wide = names.fresh(`${name}_indices_int32`);
  const nonZeros = names.fresh(`${name}_nonzeros`);
  const positions = maskPositions(names, name, mask, dims);
  const nodes = [
    makeNode('Cast', [indicesName], [wide], names.fresh(`${name}_Cast`), [intAttr('to', DataType.Int32)]),
    makeNode('Gather', [codebook, wide], [nonZeros], names.fresh(`${name}_Gather`), [intAttr('axis', 0)]),
    ...positions.nodes,
    makeNode('Gather', [nonZeros, positions.output], [name], names.fresh(`${name}_Gather`), [intAttr('axis', 0)]),
  ];
  const stored = [indices, ...positions.stored];
  return { stored, nodes, bytes: storedBytesOf(stored) };
}
