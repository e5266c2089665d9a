/**
 * Raising a model's default-domain opset, only where it cannot change what the model computes.
 * Operators whose attributes became inputs, whose defaults or semantics changed, or that were
 * removed make a raise across that version unsafe; the model is then left as it is and the
 * transform asks for a setting that fits the current opset.
 */
import type { ModelIndex } from '../core/onnx/modelIndex';
import type { NodeProto } from '../core/onnx/proto';

interface Break {
  readonly op: string;
  /** The first version whose definition is incompatible with earlier ones. */
  readonly version: number;
  /** Only nodes using this attribute are affected (the attribute became an input or went away). */
  readonly attribute?: string;
  readonly why: string;
}

const BREAKS: readonly Break[] = [
  ...['Add', 'Sub', 'Mul', 'Div', 'Gemm', 'PRelu', 'Pow', 'Equal', 'Greater', 'Less', 'And', 'Or', 'Xor'].map((op) => ({
    op, version: 7, attribute: 'broadcast', why: 'the broadcast attribute was removed in opset 7',
  })),
  { op: 'BatchNormalization', version: 7, attribute: 'is_test', why: 'is_test was removed in opset 7' },
  { op: 'BatchNormalization', version: 9, attribute: 'spatial', why: 'spatial was removed in opset 9' },
  { op: 'Scan', version: 9, why: 'Scan changed its batching in opset 9' },
  { op: 'Slice', version: 10, why: 'Slice takes starts/ends as inputs from opset 10' },
  { op: 'TopK', version: 10, why: 'TopK takes k as an input from opset 10' },
  { op: 'Upsample', version: 10, why: 'Upsample was removed in opset 10' },
  { op: 'Pad', version: 11, why: 'Pad takes pads as an input from opset 11' },
  { op: 'Clip', version: 11, why: 'Clip takes min/max as inputs from opset 11' },
  { op: 'Resize', version: 11, why: 'Resize gained the roi input in opset 11' },
  { op: 'Scatter', version: 11, why: 'Scatter was removed in opset 11' },
  { op: 'Dropout', version: 12, attribute: 'ratio', why: 'Dropout takes ratio as an input from opset 12' },
  { op: 'Squeeze', version: 13, attribute: 'axes', why: 'Squeeze takes axes as an input from opset 13' },
  { op: 'Unsqueeze', version: 13, attribute: 'axes', why: 'Unsqueeze takes axes as an input from opset 13' },
  { op: 'ReduceSum', version: 13, attribute: 'axes', why: 'ReduceSum takes axes as an input from opset 13' },
  { op: 'Split', version: 13, attribute: 'split', why: 'Split takes split as an input from opset 13' },
  ...['Softmax', 'LogSoftmax', 'Hardmax'].map((op) => ({ op, version: 13, why: `${op} normalizes one axis instead of a flattened 2-D view from opset 13` })),
  ...['ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'].map((op) => ({
    op, version: 18, attribute: 'axes', why: `${op} takes axes as an input from opset 18`,
  })),
  { op: 'RoiAlign', version: 16, why: 'RoiAlign changed its default coordinate transformation in opset 16' },
  { op: 'GridSample', version: 20, why: 'GridSample renamed its modes in opset 20' },
  { op: 'DFT', version: 20, why: 'DFT takes dft_length and axis as inputs from opset 20' },
];

/** The IR version a default-domain opset needs (ONNX's versioning table). */
export function irVersionFor(opset: number): number {
  if (opset >= 23) return 11;
  if (opset >= 21) return 10;
  if (opset >= 19) return 9;
  if (opset >= 15) return 8;
  if (opset >= 13) return 7;
  if (opset >= 10) return 5;
  return 3;
}

export function defaultOpset(opsetImport: readonly { domain?: string; version?: number | bigint }[]): number {
  const o = opsetImport.find((x) => (x.domain ?? '') === '' || x.domain === 'ai.onnx');
  return Number(o?.version ?? 0);
}

/** Why raising from `current` to `target` is unsafe for this model, or undefined when it is safe. */
export function opsetRaiseBlocker(index: ModelIndex, current: number, target: number): string | undefined {
  if (target <= current) return undefined;
  const isDefault = (n: NodeProto): boolean => (n.domain ?? '') === '' || n.domain === 'ai.onnx';
  for (const info of index.nodes) {
    if (info.graph.kind === 'function' || !isDefault(info.node)) continue;
    for (const b of BREAKS) {
      if (b.op !== info.node.opType || b.version <= current || b.version > target) continue;
      if (b.attribute && !info.node.attribute.some((a) => a.name === b.attribute)) continue;
      return `raising the opset from ${current} to ${target} is unsafe: ${info.label} (${b.why})`;
    }
  }
  return undefined;
}
