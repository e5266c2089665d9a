/**
 * Raising a model's default-domain opset without changing what it computes. Nodes whose
 * operator changed incompatibly on the way are rewritten to the new form (attributes that
 * became inputs become stored INT64/FLOAT inputs; old Softmax's flattened view is spelled out
 * with Flatten and Reshape; Resize-10 gets the roi input and its old coordinate mode). An
 * operator that cannot be carried over exactly blocks the raise: the transform then skips with
 * the reason and asks for a setting that fits the current opset.
 */

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


export { planOpsetRaise, type OpsetRaise } from './opsetUpgrade';
