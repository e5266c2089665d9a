/** A model's default-domain opset, and the IR version an opset needs (raising it: opsetUpgrade.ts). */

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
