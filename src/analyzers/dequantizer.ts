import type { StoredTensor } from '../core/onnx/modelIndex';

/**
 * How a stored weight becomes the values the model computes with: integer codes with a stored
 * scale (and zero point) per tensor, axis or block (`op`: DequantizeLinear, ConvInteger,
 * MatMulInteger, QLinearConv, QLinearMatMul, QGemm); MatMulNBits' packed blocks; or indices
 * into a codebook (Gather, as our clustering writes it); or masked: a bit mask of the non-zeros
 * and their values (or codebook indices), as prune and cluster with keepZero write them.
 */
export type Dequantizer =
  | {
      readonly kind: 'linear';
      readonly op: string;
      readonly scale: StoredTensor;
      readonly zeroPoint?: StoredTensor;
      readonly axis: number;
      readonly blockSize: number;
    }
  | {
      readonly kind: 'nbits';
      /** MatMulNBits or GatherBlockQuantized. */
      readonly op: string;
      readonly scale: StoredTensor;
      readonly zeroPoint?: StoredTensor;
      readonly bits: number;
      readonly k: number;
      readonly n: number;
      readonly blockSize: number;
    }
  | { readonly kind: 'codebook'; readonly codebook: StoredTensor }
  | {
      /** Masked storage (maskedChain.ts): the dense weight of `dims` from a bit mask and the non-zeros. */
      readonly kind: 'masked';
      readonly mask: StoredTensor;
      /** A zero then the non-zeros: the values, or indices into `codebook`. */
      readonly values: StoredTensor;
      readonly codebook?: StoredTensor;
      readonly dims: readonly number[];
    };
