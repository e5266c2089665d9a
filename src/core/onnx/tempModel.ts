/**
 * A model saved to a private temporary file, for the readers that need a file rather than bytes
 * in memory (onnxruntime, the analysis workers): each save gets its own temporary folder, and
 * `dispose` removes the folder with everything in it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { saveModel, type SaveResult } from './writeModel';

export interface TempModel {
  readonly file: string;
  readonly saved: SaveResult;
  dispose(): void;
}

/** Saves `source` as `name` in a new folder `onnx-compress-<purpose>-*` of the system's temp folder. Dispose of it in a `finally`. */
export async function saveTempModel(source: Parameters<typeof saveModel>[0], purpose: string, name = 'model.onnx'): Promise<TempModel> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `onnx-compress-${purpose}-`));
  const dispose = (): void => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const file = path.join(dir, name);
    return { file, saved: await saveModel(source, file), dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}
