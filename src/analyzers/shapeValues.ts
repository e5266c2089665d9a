/**
 * Small INT64 values carried through shape arithmetic (Shape, Gather, Concat, Unsqueeze...), so
 * a Reshape's target shape is known; and the attribute readers the shape rules share.
 */
import type { NodeInfo } from '../core/onnx/modelIndex';
import type { AttributeProto, TensorProto } from '../core/onnx/proto';
import { describeTensor } from '../core/onnx/tensor';
import { readRawBytesSync } from '../core/onnx/tensorData';
import { widenToFloat32 } from '../core/onnx/widen';

export function attrInts(n: NodeInfo, name: string): number[] | undefined {
  const a = n.node.attribute.find((x: AttributeProto) => x.name === name);
  return a && a.ints.length ? a.ints.map(Number) : a?.i !== undefined ? [Number(a.i)] : undefined;
}

export function attrInt(n: NodeInfo, name: string, fallback: number): number {
  const a = n.node.attribute.find((x) => x.name === name);
  return a?.i !== undefined ? Number(a.i) : fallback;
}

export function attrString(n: NodeInfo, name: string): string | undefined {
  const a = n.node.attribute.find((x) => x.name === name);
  return a?.s ? new TextDecoder().decode(a.s) : undefined;
}

export function propagateValue(
  op: string,
  n: NodeInfo,
  value: (i: number) => readonly number[] | undefined,
  setValue: (name: string, v: readonly number[]) => void,
): void {
  const out = n.node.output[0];
  if (!out) return;
  switch (op) {
    case 'Identity':
    case 'Cast':
    case 'Unsqueeze':
    case 'Squeeze':
    case 'Flatten': {
      const v = value(0);
      if (v) setValue(out, v);
      return;
    }
    case 'Concat': {
      const parts = n.node.input.map((_, i) => value(i));
      if (parts.length > 0 && parts.every(Boolean)) setValue(out, parts.flatMap((p) => [...p!]));
      return;
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const a = value(0);
      const b = value(1);
      if (!a || !b || (a.length !== b.length && a.length !== 1 && b.length !== 1)) return;
      const len = Math.max(a.length, b.length);
      const at = (v: readonly number[], i: number): number => (v.length === 1 ? v[0] : v[i]);
      const f = { Add: (p: number, q: number) => p + q, Sub: (p: number, q: number) => p - q, Mul: (p: number, q: number) => p * q, Div: (p: number, q: number) => Math.trunc(p / q) }[op];
      const result = Array.from({ length: len }, (_, i) => f(at(a, i), at(b, i)));
      if (result.every(Number.isFinite)) setValue(out, result);
      return;
    }
    case 'ConstantOfShape': {
      // Zeros (or the `value` attribute's one number) of a short shape: padding amounts, mostly.
      const shape = value(0);
      const fill = n.node.attribute.find((a) => a.name === 'value')?.t;
      const scalar = fill ? scalarOf(fill) : 0;
      if (!shape || shape.length !== 1 || shape[0] > MAX_RANGE_VALUES || scalar === undefined) return;
      setValue(out, new Array<number>(shape[0]).fill(scalar));
      return;
    }
    case 'Range': {
      // Positions for a sequence (Range(0, seq, 1) in transformers): kept while short enough to be a shape.
      const length = rangeLength(value(0), value(1), value(2));
      if (length === undefined || length > MAX_RANGE_VALUES) return;
      const [start, delta] = [value(0)![0], value(2)![0]];
      setValue(out, Array.from({ length }, (_, i) => start + i * delta));
      return;
    }
    case 'Slice': {
      // Opset < 10 gives starts/ends/axes as attributes, later opsets as inputs.
      const fromAttribute = (name: string): number[] | undefined => {
        const a = n.node.attribute.find((x) => x.name === name);
        return a ? a.ints.map(Number) : undefined;
      };
      const legacy = fromAttribute('starts') !== undefined;
      const data = value(0);
      const starts = legacy ? fromAttribute('starts') : value(1);
      const ends = legacy ? fromAttribute('ends') : value(2);
      const axes = legacy ? (fromAttribute('axes') ?? [0]) : n.node.input[3] ? value(3) : [0];
      const steps = legacy ? [1] : n.node.input[4] ? value(4) : [1];
      if (!data || !starts || !ends || !axes || !steps || starts.length !== 1 || axes[0] !== 0) return;
      const len = data.length;
      const clamp = (i: number, lo: number, hi: number): number => Math.min(Math.max(i < 0 ? i + len : i, lo), hi);
      const step = steps[0];
      const result: number[] = [];
      if (step > 0) for (let i = clamp(starts[0], 0, len); i < clamp(ends[0], 0, len); i += step) result.push(data[i]);
      else if (step < 0) for (let i = clamp(starts[0], -1, len - 1); i > clamp(ends[0], -1, len - 1); i += step) result.push(data[i]);
      setValue(out, result);
      return;
    }
  }
}

/** Range's values are followed up to this many (a shape or an index list, not a tensor of data). */
const MAX_RANGE_VALUES = 4096;

/** Elements of Range(start, limit, delta) from its scalar inputs' values; undefined when one is unknown. */
export function rangeLength(start?: readonly number[], limit?: readonly number[], delta?: readonly number[]): number | undefined {
  if (start?.length !== 1 || limit?.length !== 1 || delta?.length !== 1 || delta[0] === 0) return undefined;
  return Math.max(Math.ceil((limit[0] - start[0]) / delta[0]), 0);
}

/** The one number of a scalar tensor attribute, whatever its type and field; undefined otherwise. */
function scalarOf(t: TensorProto): number | undefined {
  try {
    const info = describeTensor(t, 'ConstantOfShape value', { modelDir: undefined });
    const raw = info.elements === 1 ? readRawBytesSync(info) : undefined;
    return raw ? widenToFloat32(info.dataType, raw, 0, 1)[0] : undefined;
  } catch {
    return undefined; // not a readable number: the shape stays unknown
  }
}
