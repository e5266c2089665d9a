/** The quantize kernel's results beside the JavaScript reference's, for the kernel tests. */
import * as assert from 'node:assert/strict';
import type { Quantized } from '../../src/transforms/quantizeMath';
import { useKernels } from '../../src/analyzers/wasm/kernelSwitch';

/** `run` with the kernels off (the reference), then on. */
export function bothWays(run: () => Quantized): { js: Quantized; wasm: Quantized } {
  useKernels(false);
  try {
    const js = run();
    useKernels(true);
    return { js, wasm: run() };
  } finally {
    useKernels(true);
  }
}

/** Codes, scales, zero points and restored values bit for bit. */
export function assertSameValues(js: Quantized, wasm: Quantized, label: string): void {
  assert.deepEqual(wasm.codes, js.codes, `${label}: codes`);
  assert.deepEqual(wasm.scales, js.scales, `${label}: scales`);
  assert.deepEqual(wasm.zeroPoints, js.zeroPoints, `${label}: zero points`);
  assert.deepEqual(wasm.restored, js.restored, `${label}: restored`);
}
