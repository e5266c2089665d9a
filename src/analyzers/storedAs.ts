/**
 * How a layer's main weight is stored, in words a table can show: "FP32", "FP16", "INT8
 * per-channel", "UINT8 per-tensor", "INT4 block 32", "16 clusters", "FP32 masked (50% zeros)". Read from the attribution
 * only (types, shapes, the dequantizer's tensors), so it is known before any value is read.
 */
import { dataTypeInfo, dataTypeName } from '../core/onnx/dataTypes';
import type { StoredTensor } from '../core/onnx/modelIndex';
import type { Dequantizer } from './dequantizer';
import type { Layer } from './layers';
import { mainWeight } from './layerAnalysis';

export interface StoredAs {
  /**
   * 'plain': the values as stored; 'linear': integer codes × scale (minus a zero point);
   * 'nbits': MatMulNBits' (or GatherBlockQuantized's) packed blocks; 'codebook': indices into a codebook (clustering);
   * 'masked': a bit mask of the non-zeros and their values (or codebook indices).
   */
  kind: 'plain' | 'linear' | 'nbits' | 'codebook' | 'masked';
  /** ONNX type of the stored tensor: FLOAT, FLOAT16, INT8, UINT8 (MatMulNBits' blob), UINT4 (codebook indices)... */
  dataType: string;
  /** Bits per stored code (nbits codes, codebook indices). */
  bits?: number;
  /** One scale for the tensor, one per output channel, or one per block. */
  granularity?: 'per-tensor' | 'per-channel' | 'per-block';
  blockSize?: number;
  /** Codebook entries. */
  clusters?: number;
  /** Masked: the share of the weight's elements that are zeros (not stored). */
  zeroFraction?: number;
  /** The op that dequantizes it: DequantizeLinear, QLinearConv, ConvInteger, MatMulNBits, Gather... */
  op?: string;
  label: string;
}

const SHORT_FLOAT_NAMES: Record<string, string> = { FLOAT: 'FP32', FLOAT16: 'FP16', BFLOAT16: 'BF16', DOUBLE: 'FP64' };

/** The stored form of the layer's main weight (its largest one when none is numeric). */
export function storedAs(layer: Layer): StoredAs {
  const main = mainWeight(layer) ?? [...layer.weights].sort((a, b) => b.elements - a.elements)[0];
  return storedFormOf(main, layer.dequantized?.get(main));
}

function storedFormOf(t: StoredTensor, d: Dequantizer | undefined): StoredAs {
  const dataType = dataTypeName(t.dataType);
  switch (d?.kind) {
    case undefined:
      return { kind: 'plain', dataType, label: SHORT_FLOAT_NAMES[dataType] ?? dataType };
    case 'linear': {
      const granularity = d.blockSize > 0 ? 'per-block' : d.scale.elements === 1 ? 'per-tensor' : 'per-channel';
      const form = granularity === 'per-block' ? `block ${d.blockSize}` : granularity;
      return { kind: 'linear', dataType, granularity, ...(d.blockSize > 0 ? { blockSize: d.blockSize } : {}), op: d.op, label: `${dataType} ${form}` };
    }
    case 'nbits':
      return { kind: 'nbits', dataType, bits: d.bits, granularity: 'per-block', blockSize: d.blockSize, op: d.op, label: `INT${d.bits} block ${d.blockSize}` };
    case 'codebook':
      return { kind: 'codebook', dataType, bits: dataTypeInfo(t.dataType)?.bits, clusters: d.codebook.elements, op: 'Gather', label: `${d.codebook.elements} clusters` };
    case 'masked': {
      // Values (or indices) hold a leading zero, then one entry per non-zero.
      const elements = d.dims.reduce((a, b) => a * b, 1);
      const zeroFraction = elements > 0 ? Math.max(0, 1 - (d.values.elements - 1) / elements) : 0;
      const zeros = `masked (${Math.round(100 * zeroFraction)}% zeros)`;
      const label = d.codebook ? `${d.codebook.elements} clusters, ${zeros}` : `${SHORT_FLOAT_NAMES[dataType] ?? dataType} ${zeros}`;
      const clustered = d.codebook ? { bits: dataTypeInfo(t.dataType)?.bits, clusters: d.codebook.elements } : {};
      return { kind: 'masked', dataType, ...clustered, zeroFraction, op: 'Gather', label };
    }
  }
}
