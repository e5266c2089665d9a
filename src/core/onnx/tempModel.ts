/**
 * A model saved to a private temporary file, for the readers that need a file rather than bytes
 * in memory (onnxruntime, the analysis workers): each save gets its own temporary folder, and
 * `dispose` removes the folder with everything in it.
 *
 * A model with external data is saved as a hidden file beside its source instead, referring to
 * the source's side files where they are: copying a GB-scale side file into the temp folder for
 * every calibration or check would cost more than the work itself. Where that folder cannot be
 * written, the side files are copied into the temp folder after all.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { saveModel, type SaveResult } from './writeModel';
import { mapTensors } from './mapTensors';
import { EXTERNAL_DATA, type ModelProto } from './proto';

export interface TempModel {
  readonly file: string;
  readonly saved: SaveResult;
  dispose(): void;
}

/** Bytes of external data the model refers to (by the tensors' `length` entries). */
function externalBytes(proto: ModelProto): number {
  let bytes = 0;
  mapTensors(proto, (t) => {
    if (t.dataLocation === EXTERNAL_DATA) bytes += Number(t.externalData.find((e) => e.key === 'length')?.value ?? 0);
    return t;
  });
  return bytes;
}

/** External data from which a temporary model is saved beside its source rather than copied. */
export const BESIDE_SOURCE_BYTES = 64 * 2 ** 20;

/**
 * Saves `source` as `name` in a new folder `onnx-compress-<purpose>-*` of the system's temp
 * folder, or beside its source when it refers to `besideFrom` bytes of external data or more.
 * Dispose of it in a `finally`.
 */
export async function saveTempModel(source: Parameters<typeof saveModel>[0], purpose: string, name = 'model.onnx', besideFrom = BESIDE_SOURCE_BYTES): Promise<TempModel> {
  if (source.dir !== undefined && externalBytes(source.proto) >= Math.max(1, besideFrom)) {
    const file = path.join(source.dir, `.onnx-compress-${purpose}-${process.pid}-${Date.now().toString(36)}-${name}`);
    const dispose = (): void => {
      fs.rmSync(file, { force: true });
      fs.rmSync(`${file}.data`, { force: true });
    };
    try {
      return { file, saved: await saveModel(source, file, { shareSideFiles: true }), dispose };
    } catch {
      dispose(); // a folder we cannot write: copy into the temp folder below
    }
  }
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
