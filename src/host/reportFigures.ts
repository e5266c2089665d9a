/**
 * Size figures the Compression Report compares: the model as opened (the session's baseline,
 * kept across saves: it must be measured before the first save overwrites the file), the file
 * as it is on disk now (after a save: "since last save"), and any model state (states are
 * immutable, and undo/redo return to known ones). No vscode import.
 */
import * as fs from 'node:fs';
import { encodeMessage } from '../core/protobuf/encode';
import { ModelSchema } from '../core/onnx/schema';
import { storedBytes } from '../transforms/apply';
import type { ModelState } from '../transforms/transform';
import type { SizeFigures } from '../report/compressionReport';
import { fileFigures, measureSizes } from '../report/sizeFigures';

const ofStates = new WeakMap<ModelState, SizeFigures>();

/** Figures of a model state as it would be written. */
export async function stateFigures(state: ModelState, signal?: AbortSignal): Promise<SizeFigures> {
  let sizes = ofStates.get(state);
  if (!sizes) {
    sizes = await measureSizes(encodeMessage(ModelSchema, state.proto).finish(), storedBytes(state), signal);
    ofStates.set(state, sizes);
  }
  return sizes;
}

export class ReportFigures {
  private openedFigures: Promise<SizeFigures> | undefined;
  private disk: { stamp: string; sizes: SizeFigures } | undefined;

  constructor(private readonly file: string) {}

  /** The model as opened: measured from the file the first time it is asked for (the session asks before it saves). */
  opened(): Promise<SizeFigures> {
    this.openedFigures ??= fileFigures(this.file).catch((e: unknown) => {
      this.openedFigures = undefined;
      throw e;
    });
    return this.openedFigures;
  }

  /** The file was reloaded after someone else changed it: that is the new baseline. */
  reset(): void {
    this.openedFigures = undefined;
  }

  /** The file as it is on disk now, kept while its size and modification time stay the same. */
  async onDisk(signal?: AbortSignal): Promise<SizeFigures> {
    const st = await fs.promises.stat(this.file);
    const stamp = `${st.size}:${st.mtimeMs}`;
    if (this.disk?.stamp === stamp) return this.disk.sizes;
    const sizes = await fileFigures(this.file, signal);
    this.disk = { stamp, sizes };
    return sizes;
  }
}
