/**
 * Evaluation data, as people have it: NumPy arrays (a `.npz` with a key per model input, or a
 * folder of `<input>.npy`; labels as `labels`), image folders in the ImageFolder layout
 * (`root/<class>/<image>`, decoded and preprocessed with sharp), or synthetic inputs when there is
 * no data (reported as fidelity on synthetic inputs, not accuracy). Everything is checked against
 * the model's inputs before any inference runs.
 */
import { float16Bits } from '../core/onnx/halfFloat';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OnnxError } from '../core/errors';
import { npyToFloat32, parseNpy, parseNpz, type NpyArray } from '../core/npy';
import { isFile, isFolder, readInputFile } from '../core/readInput';
import type { TensorData } from './feed';
import { syntheticDataset } from './syntheticData';
import type { Dataset, DatasetSpec, ImagePreprocess, InputInfo, Sample } from './datasetTypes';

export type { Dataset, DatasetSpec, ImagePreprocess, InputInfo, Sample } from './datasetTypes';

export const DEFAULT_PREPROCESS: ImagePreprocess = {
  resize: 256,
  crop: [224, 224],
  scale: 1 / 255,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
  channels: 'rgb',
  layout: 'nchw',
};

const fixedDim = (d: number | string): number | undefined => (typeof d === 'number' && d > 0 ? d : undefined);

function expectShape(input: InputInfo, sampleDims: readonly number[], where: string): void {
  const want = input.shape.slice(1);
  const shown = `[${input.shape.map((d) => (fixedDim(d) ?? (typeof d === 'string' ? d : '?'))).join(', ')}]`;
  if (sampleDims.length !== want.length || want.some((d, i) => fixedDim(d) !== undefined && fixedDim(d) !== sampleDims[i])) {
    throw new OnnxError('shape-mismatch', `has samples of shape [${sampleDims.join(', ')}]; input '${input.name}' expects ${shown} (first dim: batch)`, where);
  }
}

/** Widened copies of float inputs, made once per array rather than per sample. */
const widened = new WeakMap<NpyArray, Float32Array>();

function tensorOf(a: NpyArray, input: InputInfo, index: number, where: string): TensorData {
  const perSample = a.shape.slice(1).reduce((x, y) => x * y, 1);
  const dims = [1, ...a.shape.slice(1)];
  const bytesPer = a.data.length / Math.max(1, a.shape.reduce((x, y) => x * y, 1));
  const slice = a.data.subarray(index * perSample * bytesPer, (index + 1) * perSample * bytesPer);
  const one = { ...a, shape: [perSample], data: slice };
  switch (input.type) {
    case 'float32': {
      let all = widened.get(a);
      if (!all) widened.set(a, (all = npyToFloat32(a)));
      return { type: 'float32', dims, data: all.subarray(index * perSample, (index + 1) * perSample) };
    }
    case 'float16': {
      let all = widened.get(a);
      if (!all) widened.set(a, (all = npyToFloat32(a)));
      return { type: 'float16', dims, data: toHalf(all.subarray(index * perSample, (index + 1) * perSample)) };
    }
    case 'int64': {
      if (a.dtype !== 'int64' && a.dtype !== 'int32') throw new OnnxError('shape-mismatch', `is ${a.dtype}; input '${input.name}' is int64`, where);
      return { type: 'int64', dims, data: BigInt64Array.from(npyToFloat32(one), (v) => BigInt(Math.round(v))) };
    }
    case 'int32':
    case 'bool': {
      if (a.dtype.startsWith('float')) throw new OnnxError('shape-mismatch', `is ${a.dtype}; input '${input.name}' is ${input.type}`, where);
      const values = npyToFloat32(one);
      return input.type === 'int32' ? { type: 'int32', dims, data: Int32Array.from(values) } : { type: 'bool', dims, data: Uint8Array.from(values, (v) => (v ? 1 : 0)) };
    }
    default:
      throw new OnnxError('unsupported', `input '${input.name}' is ${input.type}; float32, float16, int64, int32 and bool inputs are supported`, where);
  }
}

function toHalf(values: Float32Array): Uint16Array {
  return Uint16Array.from(values, float16Bits);
}

function labelsFrom(a: NpyArray | undefined, where: string): Int32Array | undefined {
  if (!a) return undefined;
  if (a.shape.length !== 1 || !['int64', 'int32', 'uint8', 'int16', 'uint16', 'int8'].includes(a.dtype)) {
    throw new OnnxError('shape-mismatch', `labels must be a 1-D array of integer class ids, not ${a.dtype} [${a.shape.join(', ')}]`, where);
  }
  const values = npyToFloat32(a);
  // Class ids index the model's scores: a negative id or one past int32 (2^62 wraps to 0) would score as a hit.
  const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0 || v >= 2 ** 31);
  if (bad >= 0) throw new OnnxError('shape-mismatch', `label ${bad} is ${labelText(a, bad)}; class ids are whole numbers from 0`, where);
  return Int32Array.from(values);
}

/** The label as stored (int64 labels beyond float precision are shown exactly). */
function labelText(a: NpyArray, i: number): string {
  const v = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  return a.dtype === 'int64' ? String(v.getBigInt64(i * 8, true)) : String(npyToFloat32(a)[i]);
}

function numpyDataset(spec: Extract<DatasetSpec, { kind: 'numpy' }>, inputs: readonly InputInfo[]): Dataset {
  const arrays = new Map<string, NpyArray>();
  let labels: Int32Array | undefined;
  let tokenLabels: { values: Int32Array; per: number } | undefined;
  const where = spec.path;
  const safe = (n: string) => n.replace(/[^A-Za-z0-9._-]/g, '_');
  if (isFolder(spec.path)) {
    for (const input of inputs) {
      const file = path.join(spec.path, `${safe(input.name)}.npy`);
      if (!isFile(file)) throw new OnnxError('io', `has no ${path.basename(file)} for input '${input.name}'`, where);
      arrays.set(input.name, parseNpy(readInputFile(file), file));
    }
    const labelFile = spec.labels ?? path.join(spec.path, 'labels.npy');
    if (spec.labels || isFile(labelFile)) labels = labelsFrom(parseNpy(readInputFile(labelFile), labelFile), labelFile);
  } else {
    const npz = parseNpz(readInputFile(spec.path), where);
    for (const input of inputs) {
      const a = npz.get(input.name) ?? npz.get(safe(input.name));
      if (!a) throw new OnnxError('io', `has no array '${input.name}' for that model input (it has ${[...npz.keys()].join(', ')})`, where);
      arrays.set(input.name, a);
    }
    const given = npz.get('labels');
    // Token labels [samples, seq] (language models) are targets per position, not class ids.
    if (!spec.labels && given && given.shape.length === 2) tokenLabels = { values: Int32Array.from(npyToFloat32(given)), per: given.shape[1] };
    else if (spec.labels) labels = labelsFrom(parseNpy(readInputFile(spec.labels), spec.labels), spec.labels);
    else labels = labelsFrom(given, where);
  }
  const sizes = inputs.map((i) => arrays.get(i.name)!.shape[0] ?? 0);
  const size = Math.min(...sizes);
  if (sizes.some((s) => s !== size)) throw new OnnxError('shape-mismatch', `inputs hold different numbers of samples (${sizes.join(', ')})`, where);
  for (const input of inputs) expectShape(input, arrays.get(input.name)!.shape.slice(1), where);
  if (size === 0) throw new OnnxError('shape-mismatch', 'holds no samples', where);
  // One label per sample: extra labels mean the files do not belong together.
  if (labels && labels.length !== size) throw new OnnxError('shape-mismatch', `has ${labels.length} labels for ${size} samples`, where);
  return {
    size,
    labelled: !!labels,
    synthetic: false,
    description: `${size} samples from ${path.basename(spec.path)}${labels ? ' with labels' : ''}`,
    sample: async (i) => ({
      feed: Object.fromEntries(inputs.map((input) => [input.name, tensorOf(arrays.get(input.name)!, input, i, where)])),
      label: labels?.[i],
      ...(tokenLabels ? { targets: tokenLabels.values.subarray(i * tokenLabels.per, (i + 1) * tokenLabels.per) } : {}),
    }),
    batch: inputs.every((i) => i.type === 'float32') && !tokenLabels
      ? (first, count) => ({
          feed: Object.fromEntries(
            inputs.map((input) => {
              const a = arrays.get(input.name)!;
              const one = tensorOf(a, input, first, where);
              const per = one.data.length;
              const all = widened.get(a)!;
              return [input.name, { type: 'float32', dims: [count, ...one.dims.slice(1)], data: all.subarray(first * per, (first + count) * per) }];
            }),
          ),
          labels: labels ? Array.from(labels.subarray(first, first + count)) : undefined,
        })
      : undefined,
  };
}

const IMAGE = /\.(png|jpe?g|webp|gif|tiff?|bmp)$/i;

async function imageDataset(spec: Extract<DatasetSpec, { kind: 'images' }>, inputs: readonly InputInfo[]): Promise<Dataset> {
  const input = spec.input ? inputs.find((i) => i.name === spec.input) : inputs.length === 1 ? inputs[0] : undefined;
  if (!input) throw new OnnxError('unsupported', `the model has inputs ${inputs.map((i) => `'${i.name}'`).join(', ')}: say which one takes the images`, spec.root);
  if (!isFolder(spec.root)) throw new OnnxError('io', 'is not a folder', spec.root);
  const classes = fs.readdirSync(spec.root, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
  const files: { file: string; label: number }[] = [];
  classes.forEach((c, label) => {
    for (const f of fs.readdirSync(path.join(spec.root, c)).sort()) if (IMAGE.test(f)) files.push({ file: path.join(spec.root, c, f), label });
  });
  if (files.length === 0) throw new OnnxError('io', 'holds no images in <class>/<image> folders', spec.root);
  const p = spec.preprocess;
  const [width, height] = p.crop ?? (Array.isArray(p.resize) ? p.resize : [undefined, undefined]);
  if (!width || !height) throw new OnnxError('unsupported', 'preprocessing must end at a fixed size: give crop, or resize as [width, height]', spec.root);
  expectShape(input, p.layout === 'nchw' ? [3, height, width] : [height, width, 3], spec.root);
  // sharp is loaded only here: a native module, used in the evaluation process.
  const sharp = (await import('sharp')).default;
  return {
    size: files.length,
    labelled: true,
    synthetic: false,
    description: `${files.length} images in ${classes.length} classes from ${path.basename(spec.root)}`,
    sample: async (i) => {
      const { file, label } = files[i];
      let img = sharp(file).removeAlpha().toColourspace('srgb');
      if (typeof p.resize === 'number') {
        const meta = await sharp(file).metadata();
        const short = Math.min(meta.width ?? 1, meta.height ?? 1);
        const f = p.resize / short;
        img = img.resize(Math.round((meta.width ?? 1) * f), Math.round((meta.height ?? 1) * f), { fit: 'fill' });
      } else if (p.resize) img = img.resize(p.resize[0], p.resize[1], { fit: 'fill' });
      let { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
      if (p.crop) {
        const left = Math.max(0, Math.floor((info.width - width) / 2));
        const top = Math.max(0, Math.floor((info.height - height) / 2));
        if (info.width < width || info.height < height) throw new OnnxError('shape-mismatch', `is ${info.width}×${info.height} after resizing, smaller than the ${width}×${height} crop`, file);
        ({ data, info } = await sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels as 3 } })
          .extract({ left, top, width, height })
          .raw()
          .toBuffer({ resolveWithObject: true }));
      }
      return { feed: { [input.name]: { type: 'float32', dims: [1, ...(p.layout === 'nchw' ? [3, height, width] : [height, width, 3])], data: toTensor(data, width, height, p) } }, label };
    },
  };
}

/** HWC RGB bytes → normalized float tensor in the requested channel order and layout. */
export function toTensor(rgb: Uint8Array, width: number, height: number, p: ImagePreprocess): Float32Array {
  const out = new Float32Array(3 * width * height);
  const plane = width * height;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const pixel = y * width + x;
      for (let c = 0; c < 3; c++) {
        const source = p.channels === 'rgb' ? c : 2 - c;
        const v = (rgb[pixel * 3 + source] * p.scale - p.mean[c]) / p.std[c];
        out[p.layout === 'nchw' ? c * plane + pixel : pixel * 3 + c] = v;
      }
    }
  }
  return out;
}

/** `vocabularies`: per integer input, the size of the embedding table it indexes (synthetic token ids stay below it). */
export async function openDataset(spec: DatasetSpec, inputs: readonly InputInfo[], vocabularies: Readonly<Record<string, number>> = {}): Promise<Dataset> {
  switch (spec.kind) {
    case 'numpy':
      return numpyDataset(spec, inputs);
    case 'images':
      return imageDataset(spec, inputs);
    case 'synthetic':
      return syntheticDataset(spec, inputs, vocabularies);
  }
}

/** Concatenates samples along the batch dim. */
export function batchOf(samples: readonly Sample[]): Record<string, TensorData> {
  const first = samples[0].feed;
  return Object.fromEntries(
    Object.entries(first).map(([name, t]) => {
      if (samples.length === 1) return [name, t];
      const per = t.data.length;
      const Typed = t.data.constructor as new (n: number) => Float32Array;
      const data = new Typed(per * samples.length);
      samples.forEach((s, i) => data.set(s.feed[name].data as Float32Array, i * per));
      return [name, { type: t.type, dims: [samples.length, ...t.dims.slice(1)], data }];
    }),
  );
}
