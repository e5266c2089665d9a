/**
 * Inputs for calibration runs: arrays from a `.npz` file (one array per model input, samples
 * along the first axis) or a folder of `<input>.npy` files, or, when no data is given, seeded
 * random values in [-1, 1) for float inputs of fully known shape.
 */
import * as path from 'node:path';
import { OnnxError } from '../core/errors';
import { parseNpy, parseNpz, npyToFloat32, type NpyArray } from '../core/npy';
import { isFile, isFolder, readInputFile } from '../core/readInput';
import type { ModelProto } from '../core/onnx/proto';
import { DataType, dataTypeName } from '../core/onnx/dataTypes';
import { float16Bits } from '../core/onnx/halfFloat';
import type { Feed, TensorData } from './feed';

interface InputSpec {
  readonly name: string;
  readonly elemType: number;
  /** Declared dims; symbolic ones undefined. */
  readonly dims: readonly (number | undefined)[];
}

export function modelInputs(proto: ModelProto): InputSpec[] {
  const g = proto.graph!;
  const stored = new Set(g.initializer.map((t) => t.name));
  return g.input
    .filter((v) => !stored.has(v.name))
    .map((v) => ({
      name: v.name ?? '',
      elemType: v.type?.tensorType?.elemType ?? 0,
      dims: v.type?.tensorType?.shape?.dim.map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : undefined)) ?? [],
    }));
}

/** A float input as the model takes it: FLOAT16 inputs get half-precision bits. */
function floatFeed(elemType: number, dims: number[], values: Float32Array): TensorData {
  return elemType === DataType.Float16 ? { type: 'float16', dims, data: Uint16Array.from(values, float16Bits) } : { type: 'float32', dims, data: values };
}

function tensorFrom(a: NpyArray, spec: InputSpec, sample: number, where: string): TensorData {
  // Samples along the first axis; each is fed as a batch of one.
  const perSample = a.shape.slice(1).reduce((x, y) => x * y, 1);
  const dims = [1, ...a.shape.slice(1)];
  if (spec.dims.length !== dims.length) throw new OnnxError('shape-mismatch', `has samples of shape [${a.shape.slice(1).join(', ')}]; input '${spec.name}' has rank ${spec.dims.length} (batch included)`, where);
  if (spec.elemType === DataType.Int64) {
    if (a.dtype !== 'int64' && a.dtype !== 'int32') throw new OnnxError('shape-mismatch', `is ${a.dtype}; input '${spec.name}' is INT64`, where);
    const v = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
    const width = a.dtype === 'int64' ? 8 : 4;
    const data = BigInt64Array.from({ length: perSample }, (_, k) =>
      width === 8 ? v.getBigInt64((sample * perSample + k) * 8, true) : BigInt(v.getInt32((sample * perSample + k) * 4, true)),
    );
    return { type: 'int64', dims, data };
  }
  const values = npyToFloat32(a).slice(sample * perSample, (sample + 1) * perSample);
  return floatFeed(spec.elemType, dims, values);
}

/** Loads up to `samples` feeds from `data` (a .npz file or a folder of .npy files), or random ones. */
export function loadCalibrationFeeds(
  proto: ModelProto,
  data: string | undefined,
  samples: number,
  shapes: Readonly<Record<string, readonly number[]>> = {},
  seed = 1,
): { feeds: Feed[]; description: string } {
  const inputs = modelInputs(proto).map((spec) => (shapes[spec.name] ? { ...spec, dims: shapes[spec.name] } : spec));
  if (data) {
    const arrays = new Map<string, NpyArray>();
    if (isFolder(data)) {
      for (const spec of inputs) {
        const file = path.join(data, `${spec.name.replace(/[^A-Za-z0-9._-]/g, '_')}.npy`);
        if (!isFile(file)) throw new OnnxError('io', `has no ${path.basename(file)} for input '${spec.name}'`, data);
        arrays.set(spec.name, parseNpy(readInputFile(file), file));
      }
    } else {
      const npz = parseNpz(readInputFile(data), data);
      for (const spec of inputs) {
        const a = npz.get(spec.name) ?? npz.get(spec.name.replace(/[^A-Za-z0-9._-]/g, '_'));
        if (!a) throw new OnnxError('io', `has no array named '${spec.name}' (it has ${[...npz.keys()].join(', ')})`, data);
        arrays.set(spec.name, a);
      }
    }
    const available = Math.min(...[...arrays.values()].map((a) => a.shape[0] ?? 0));
    const n = Math.min(samples, available);
    if (n === 0) throw new OnnxError('io', 'holds no samples', data);
    const feeds: Feed[] = [];
    for (let s = 0; s < n; s++) feeds.push(Object.fromEntries(inputs.map((spec) => [spec.name, tensorFrom(arrays.get(spec.name)!, spec, s, data)])));
    return { feeds, description: `${n} samples from ${path.basename(data)}` };
  }
  let state = seed >>> 0;
  const random = (): number => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 31 - 1;
  };
  for (const spec of inputs) {
    if (spec.elemType !== DataType.Float && spec.elemType !== DataType.Float16) throw new OnnxError('unsupported', `input '${spec.name}' is ${dataTypeName(spec.elemType)}, not FLOAT or FLOAT16: give calibration data`, 'calibration');
    if (spec.dims.slice(1).some((d) => d === undefined)) {
      throw new OnnxError('unsupported', `input '${spec.name}' has unknown dims: give calibration data, or its shape in calibration.shapes`, 'calibration');
    }
  }
  const feeds: Feed[] = [];
  for (let s = 0; s < samples; s++) {
    feeds.push(
      Object.fromEntries(
        inputs.map((spec) => {
          const dims = spec.dims.map((d, i) => (i === 0 ? 1 : (d as number)));
          return [spec.name, floatFeed(spec.elemType, dims, Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, random))];
        }),
      ),
    );
  }
  return { feeds, description: `${samples} random inputs in [-1, 1) (no calibration data given)` };
}
