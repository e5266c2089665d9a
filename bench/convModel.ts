/**
 * The generated FLOAT16 conv model the analysis benchmark measures (issue 17): 44M weights,
 * 88 MB, a VGG-like chain of 3×3 Convs (with biases) from 3 to 512 channels, most of the weight
 * in sixteen 512×512×3×3 layers. Weights are deterministic bell-shaped noise with a scale per
 * output channel, so per-channel quantization and the histograms do their full work.
 * Run: node dist/bench/convModel.js [OUT.onnx]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { float16Bits } from '../src/core/onnx/halfFloat';
import { attribute, encodeModel, graph, model, node, tensor, valueInfo } from '../test/helpers/modelBuilder';
import { ranAlone } from './ranAlone';

const FLOAT16 = 10;

/** [out, in] channels of each 3×3 Conv; stride 2 where the width changes. */
const LAYERS: readonly [number, number][] = [
  [64, 3],
  [64, 64],
  [128, 64],
  [128, 128],
  [256, 128],
  [256, 256],
  [256, 256],
  [512, 256],
  ...Array.from({ length: 17 }, (): [number, number] => [512, 512]),
];

/** FLOAT16 bytes of bell-shaped noise; channel c of `channels` (each `inner` long) scaled by 0.5..1.5. */
function halfNoise(channels: number, inner: number, seed: number): Uint8Array {
  const out = new Uint16Array(channels * inner);
  let s = seed >>> 0;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
  for (let c = 0; c < channels; c++) {
    const scale = 0.02 * (0.5 + next());
    for (let i = 0; i < inner; i++) out[c * inner + i] = float16Bits((next() + next() + next() + next() - 2) * scale);
  }
  return new Uint8Array(out.buffer);
}

export function convModel(): Uint8Array {
  const nodes = [];
  const weights = [];
  let side = 224;
  for (let i = 0; i < LAYERS.length; i++) {
    const [out, inC] = LAYERS[i];
    const stride = i > 0 && LAYERS[i - 1][0] !== out ? 2 : 1;
    if (stride === 2) side = Math.ceil(side / 2);
    weights.push(tensor(`conv${i}.weight`, FLOAT16, [out, inC, 3, 3], halfNoise(out, inC * 9, 2 * i + 1)));
    weights.push(tensor(`conv${i}.bias`, FLOAT16, [out], halfNoise(1, out, 2 * i + 2)));
    const input = i === 0 ? 'x' : `r${i - 1}`;
    const attrs = [attribute('kernel_shape', { type: 7, ints: [3, 3] }), attribute('pads', { type: 7, ints: [1, 1, 1, 1] }), attribute('strides', { type: 7, ints: [stride, stride] })];
    nodes.push(node('Conv', [input, `conv${i}.weight`, `conv${i}.bias`], [`c${i}`], `conv${i}`, attrs));
    nodes.push(node('Relu', [`c${i}`], [i === LAYERS.length - 1 ? 'y' : `r${i}`], `relu${i}`));
  }
  const last = LAYERS[LAYERS.length - 1][0];
  return encodeModel(model(graph(nodes, weights, [valueInfo('x', FLOAT16, [1, 3, 224, 224])], [valueInfo('y', FLOAT16, [1, last, side, side])]), 13, { producerName: 'onnx-compress analysis bench' }));
}

/** Where the benches keep the generated model. */
export const CONV_MODEL_FILE = path.join(os.tmpdir(), 'onnx-compress-bench', 'conv-fp16-44M.onnx');

/** Writes the model to `file` unless it is already there; returns the path. */
export function writeConvModel(file: string): string {
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, convModel());
  }
  return file;
}

if (ranAlone('convModel')) console.log(writeConvModel(process.argv[2] ?? CONV_MODEL_FILE));
