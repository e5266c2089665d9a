/**
 * Writing a weight that has exact zeros: masked (maskedStorage.ts) when that is smaller than
 * dense and the model's opset can be raised to what the chain needs, dense otherwise. The raise
 * is planned once per opset and applied by `finish` only when a masked weight was written.
 */
import type { StoredTensor } from '../core/onnx/modelIndex';
import { rawTensor } from './tensorBuild';
import { maskedOpset, maskedWeight, type MaskedPlan } from './maskedStorage';
import { defaultOpset } from './opset';
import { planOpsetRaise, type OpsetRaise } from './opsetUpgrade';
import { replaceTensorValue, replaceTensorWithNodes } from './weightEdit';
import type { TransformContext } from './transform';

export interface Stored {
  readonly bytes: number;
  readonly storage: 'masked' | 'dense';
  /** Why a smaller masked form was not used. */
  readonly denseBecause?: string;
}

export class MaskedWriter {
  private readonly raises = new Map<number, OpsetRaise>();
  private needed = 0;

  constructor(private readonly ctx: TransformContext) {}

  /** Why the chain for `dataType` cannot be used in this model, or undefined when it can. */
  blocker(dataType: number): string | undefined {
    const target = maskedOpset(dataType);
    let raise = this.raises.get(target);
    if (!raise) this.raises.set(target, (raise = planOpsetRaise(this.ctx.state.index, defaultOpset(this.ctx.state.proto.opsetImport), target, this.ctx.names)));
    return raise.blocker && `masked storage needs opset ${target}; ${raise.blocker}`;
  }

  /** Commits a masked plan for `t` (the caller checked `blocker`). */
  commitMasked(t: StoredTensor, plan: MaskedPlan): void {
    replaceTensorWithNodes(this.ctx.patch, t, plan.stored, plan.nodes);
    this.noteMasked(t.dataType);
  }

  /** Records that a masked chain for `dataType` was written by the caller (the opset it needs is raised by `finish`). */
  noteMasked(dataType: number): void {
    this.needed = Math.max(this.needed, maskedOpset(dataType));
  }

  /** Writes `t` with the stored bytes `raw` (zeros where `values` is 0) in the smaller form. */
  write(t: StoredTensor, raw: Uint8Array, values: Float32Array, width: number): Stored {
    const plan = maskedWeight(this.ctx.names, t.name, t.dataType, t.dims, raw, values, width);
    const why = plan.bytes < raw.length ? this.blocker(t.dataType) : undefined;
    if (plan.bytes < raw.length && !why) {
      this.commitMasked(t, plan);
      return { bytes: plan.bytes, storage: 'masked' };
    }
    replaceTensorValue(this.ctx.patch, t, rawTensor(t.name, t.dataType, t.dims, raw));
    return { bytes: raw.length, storage: 'dense', ...(why ? { denseBecause: why } : {}) };
  }

  /** Raises the opset for the masked weights written. */
  finish(): void {
    if (this.needed) this.raises.get(this.needed)!.apply(this.ctx.patch, this.ctx.names);
  }
}
