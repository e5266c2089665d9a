/**
 * Layers that are already quantized, as onnxruntime's quantizers and our clustering write them,
 * and how to get their weights' real values back:
 * - QLinearConv (w, w_scale, w_zp at 3, 4, 5; per output channel along axis 0), QLinearMatMul
 *   (b at 3, per column: the last axis), com.microsoft QGemm (B at 3; per channel by transB);
 * - ConvInteger / MatMulInteger (the dynamic quantizer): codes at 1, zero point at 3, and the
 *   scale outside the op: its int32 output goes through Cast to a Mul by
 *   Mul(DynamicQuantizeLinear's scale, stored weight scale), or by a stored scale directly;
 * - com.microsoft MatMulNBits: B packed in blocks, with scales and optional zero points, and
 *   GatherBlockQuantized (uint8 data, rows quantized in blocks): the same packing, table [N, K];
 * - Gather(codebook, Cast(indices)) along axis 0 with a 1-D codebook: the clustered form.
 */
import { DataType } from '../core/onnx/dataTypes';
import type { NodeProto } from '../core/onnx/proto';
import type { StoredTensor } from '../core/onnx/modelIndex';
import type { Dequantizer } from './dequantizer';

export const MS_DOMAIN = 'com.microsoft';

/** Operands that are activation quantization parameters or indices (never weights), by domain. */
export const QUANTIZED_NON_WEIGHT_OPERANDS: Record<string, Record<string, readonly number[]>> = {
  '': { QLinearConv: [1, 2, 6, 7], QLinearMatMul: [1, 2, 6, 7], ConvInteger: [2], MatMulInteger: [2] },
  [MS_DOMAIN]: { QGemm: [1, 2, 7, 8], MatMulNBits: [4] }, // MatMulNBits' 4 is g_idx
};

const attribute = (node: NodeProto, name: string, fallback: number): number => Number(node.attribute.find((a) => a.name === name)?.i ?? fallback);

/** What the attribution knows of a graph, for following a value forwards and backwards. */
export interface GraphLookup {
  consumers(name: string): readonly NodeProto[];
  producer(name: string): NodeProto | undefined;
  /** The stored tensor a value name refers to directly (initializer or Constant), if any. */
  stored(name: string): StoredTensor | undefined;
}

/** A stored tensor's sources as the attribution has them: the one stored tensor, or undefined. */
type Sources = readonly StoredTensor[] | undefined;
const single = (s: Sources): StoredTensor | undefined => (s?.length === 1 ? s[0] : undefined);

/**
 * The stored weight scale of a ConvInteger / MatMulInteger: follows its output through Cast to
 * the Mul that rescales it, whose other operand is the stored scale or a Mul of the activation's
 * dynamic scale and the stored one.
 */
export function integerOpScale(node: NodeProto, g: GraphLookup): StoredTensor | undefined {
  let value = node.output[0];
  let next = g.consumers(value);
  while (next.length === 1 && next[0].opType === 'Cast') {
    value = next[0].output[0];
    next = g.consumers(value);
  }
  if (next.length !== 1 || next[0].opType !== 'Mul') return undefined;
  const other = next[0].input.find((name) => name !== value);
  if (!other) return undefined;
  const direct = g.stored(other);
  if (direct) return direct;
  const product = g.producer(other);
  if (product?.opType !== 'Mul') return undefined;
  const stored = product.input.map((name) => g.stored(name)).filter((t): t is StoredTensor => t !== undefined);
  return stored.length === 1 ? stored[0] : undefined;
}

/**
 * The dequantizers a quantized layer applies to its stored operands (`inputs`: each operand's
 * stored sources), given the scale found outside it for ConvInteger / MatMulInteger.
 */
export function operandDequantizers(node: NodeProto, inputs: readonly Sources[], outsideScale?: StoredTensor): Map<StoredTensor, Dequantizer> {
  const out = new Map<StoredTensor, Dequantizer>();
  const op = node.opType ?? '';
  const domain = node.domain ?? '';
  const linear = (codes: number, scale: StoredTensor | undefined, zeroPoint: number, axis: (rank: number) => number): void => {
    const q = single(inputs[codes]);
    if (!q || !scale) return;
    out.set(q, { kind: 'linear', op, scale, zeroPoint: single(inputs[zeroPoint]), axis: axis(q.dims.length), blockSize: 0 });
  };
  if (domain === '' || domain === 'ai.onnx') {
    if (op === 'QLinearConv') linear(3, single(inputs[4]), 5, () => 0);
    else if (op === 'QLinearMatMul') linear(3, single(inputs[4]), 5, (rank) => rank - 1);
    else if (op === 'ConvInteger') linear(1, outsideScale, 3, () => 0);
    else if (op === 'MatMulInteger') linear(1, outsideScale, 3, (rank) => rank - 1);
  } else if (domain === MS_DOMAIN) {
    if (op === 'QGemm') linear(3, single(inputs[4]), 5, () => (attribute(node, 'transB', 0) ? 0 : 1));
    else if (op === 'MatMulNBits') {
      const b = single(inputs[1]);
      const scale = single(inputs[2]);
      if (b && scale) {
        out.set(b, {
          kind: 'nbits',
          op,
          scale,
          zeroPoint: single(inputs[3]),
          bits: attribute(node, 'bits', 4),
          k: attribute(node, 'K', 0),
          n: attribute(node, 'N', 0),
          blockSize: attribute(node, 'block_size', 0),
        });
      }
    } else if (op === 'GatherBlockQuantized') {
      // A packed uint8 table gathered by rows and quantized along them: MatMulNBits' B with N rows of K values.
      const data = single(inputs[0]);
      const scale = single(inputs[2]);
      const bits = attribute(node, 'bits', 4);
      const rowsQuantized = attribute(node, 'gather_axis', 0) === 0 && [1, -1].includes(attribute(node, 'quantize_axis', 1));
      if (data && scale && rowsQuantized && data.dims.length === 2 && data.dataType === DataType.Uint8) {
        out.set(data, { kind: 'nbits', op, scale, zeroPoint: single(inputs[3]), bits, n: data.dims[0], k: (data.dims[1] * 8) / bits, blockSize: attribute(node, 'block_size', 128) });
      }
    }
  }
  return out;
}

/** Gather(codebook, indices) with a 1-D stored codebook and stored indices along axis 0: the indices' dequantizer. */
export function codebookGather(node: NodeProto, inputs: readonly Sources[]): [StoredTensor, Dequantizer] | undefined {
  if (node.opType !== 'Gather' || attribute(node, 'axis', 0) !== 0) return undefined;
  const codebook = single(inputs[0]);
  const indices = single(inputs[1]);
  if (!codebook || !indices || codebook.dims.length !== 1 || indices === codebook) return undefined;
  // INT64 on either side is shape arithmetic, not a clustered weight.
  if (codebook.dataType === DataType.Int64 || indices.dataType === DataType.Int64) return undefined;
  return [indices, { kind: 'codebook', codebook }];
}
