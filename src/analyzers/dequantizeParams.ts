/**
 * Reads the stored parameters a dequantizer names (scales, zero points, codebook, a mask and its
 * non-zeros) and checks
 * that they fit the weight; when they do not, the weight is analyzed as stored.
 */
import { DataType, dataTypeInfo } from '../core/onnx/dataTypes';
import type { StoredTensor } from '../core/onnx/modelIndex';
import { readDenseFloat32, readRawBytes } from '../core/onnx/tensorData';
import { dequantizeFits, lookUpChunk, type DequantizeParams } from './dequantize';
import { maskedCount } from './maskedValues';
import type { Dequantizer } from './dequantizer';
import { nbitsFits, unpackZeroPoints } from './nbits';

const isNumeric = (t: StoredTensor): boolean => (dataTypeInfo(t.dataType)?.numeric ?? false) && t.dataType !== DataType.Bool && t.elements > 0;

export async function dequantizeParams(t: StoredTensor, d: Dequantizer | undefined): Promise<DequantizeParams | undefined> {
  if (!d) return undefined;
  switch (d.kind) {
    case 'linear': {
      if (!isNumeric(d.scale) || (d.zeroPoint && !isNumeric(d.zeroPoint))) return undefined;
      if (!dequantizeFits(t.dims, d.scale.elements, d.axis, d.blockSize)) return undefined;
      if (d.zeroPoint && d.zeroPoint.elements !== d.scale.elements && d.zeroPoint.elements !== 1) return undefined;
      const scale = await readDenseFloat32(d.scale);
      let zeroPoint = d.zeroPoint ? await readDenseFloat32(d.zeroPoint) : null;
      // One zero point for per-channel scales (QLinearConv allows it): the same for every channel.
      if (zeroPoint && zeroPoint.length !== scale.length) zeroPoint = new Float32Array(scale.length).fill(zeroPoint[0]);
      return { kind: 'linear', scale, zeroPoint, axis: d.axis, blockSize: d.blockSize, key: `${d.scale.where}/${d.zeroPoint?.where ?? '-'}/${d.axis}/${d.blockSize}` };
    }
    case 'nbits': {
      if (!isNumeric(d.scale) || (d.zeroPoint && !isNumeric(d.zeroPoint))) return undefined;
      if (!nbitsFits(t, d.scale.elements, d.zeroPoint, d)) return undefined;
      const zeroPoint = unpackZeroPoints(d.zeroPoint ? await readDenseFloat32(d.zeroPoint) : undefined, d.zeroPoint?.dataType === DataType.Uint8, d);
      return {
        kind: 'nbits',
        bits: d.bits,
        k: d.k,
        n: d.n,
        blockSize: d.blockSize,
        scale: await readDenseFloat32(d.scale),
        zeroPoint,
        key: `nbits/${d.scale.where}/${d.zeroPoint?.where ?? '-'}/${d.bits}/${d.k}/${d.n}/${d.blockSize}`,
      };
    }
    case 'codebook':
      if (!isNumeric(d.codebook) || d.codebook.dims.length !== 1) return undefined;
      return { kind: 'codebook', codebook: await readDenseFloat32(d.codebook), key: `codebook/${d.codebook.where}` };
    case 'masked': {
      const n = d.dims.reduce((a, b) => a * b, 1);
      if (d.mask.elements !== Math.ceil(n / 8) || !isNumeric(d.values) || (d.codebook && (!isNumeric(d.codebook) || d.codebook.dims.length !== 1))) return undefined;
      const mask = await readRawBytes(d.mask);
      // One leading zero (or its code), then one entry per set bit.
      if (maskedCount(mask, n) + 1 !== d.values.elements) return undefined;
      const values = await readDenseFloat32(d.values);
      if (d.codebook) lookUpChunk(values, await readDenseFloat32(d.codebook));
      return { kind: 'masked', dims: d.dims, mask, values, key: `masked/${d.mask.where}/${d.codebook?.where ?? '-'}/${d.dims.join('x')}` };
    }
  }
}
