/**
 * The transform presets the editor offers, shared by its form (webview) and its palette
 * commands (host), so both apply exactly the same recipe steps. Each is a recipe step in the
 * words of the step specification (test/unit/stepSpec.unit.test.ts parses every one).
 */
import type { TransformName } from './stepSpec';

export interface Preset {
  readonly label: string;
  readonly description?: string;
  readonly step: Readonly<Record<string, unknown>>;
}

export const PRESETS: Readonly<Record<TransformName, readonly Preset[]>> = {
  quantize: [
    { label: 'INT8 per channel', step: { transform: 'quantize', dtype: 'int8', granularity: 'per-channel' } },
    { label: 'UINT8 per tensor, asymmetric', step: { transform: 'quantize', dtype: 'uint8', granularity: 'per-tensor', symmetric: false } },
    { label: 'INT4 blocks of 32', step: { transform: 'quantize', dtype: 'int4', granularity: 'block', blockSize: 32 } },
    { label: 'FLOAT16 weights', step: { transform: 'quantize', dtype: 'float16' } },
  ],
  prune: [
    { label: '30% smallest weights', step: { transform: 'prune', sparsity: 0.3 } },
    { label: '50% smallest weights', step: { transform: 'prune', sparsity: 0.5 } },
    { label: '2:4 structured', step: { transform: 'prune', pattern: '2:4' } },
    { label: '25% of output channels', step: { transform: 'prune', pattern: 'channel', sparsity: 0.25 } },
  ],
  cluster: [
    { label: '16 shared values', step: { transform: 'cluster', clusters: 16 } },
    { label: '16, zeros kept', step: { transform: 'cluster', clusters: 16, keepZero: true } },
    { label: '256 shared values', step: { transform: 'cluster', clusters: 256 } },
  ],
  factorize: [
    { label: 'keep 99% energy', step: { transform: 'factorize', energy: 0.99 } },
    { label: 'keep 95% energy', step: { transform: 'factorize', energy: 0.95 } },
  ],
};

/** The presets of a transform named by a string (a form's select value); none for other names. */
export function presetsFor(transform: string): readonly Preset[] {
  return (PRESETS as Record<string, readonly Preset[]>)[transform] ?? [];
}
