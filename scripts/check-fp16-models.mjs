// Runs the FLOAT16 PP-OCRv4 rec and det models written by scripts/make-fp16-models.py and their
// FLOAT originals in onnxruntime-node (CPU) on the same deterministic input, and prints the output
// SQNR of FLOAT16 against FLOAT. The input is a normalized-image-like pattern: rows of dark
// "strokes" (-2) on a light background (+2), so the detector finds text (on a smooth pattern its
// output is ~0 everywhere and an SQNR means nothing).
//
//   node scripts/check-fp16-models.mjs [FP16_DIR]      (default .cache/models/fp16)
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const ort = require(join(root, 'node_modules', 'onnxruntime-node'));
const models = join(root, '.cache', 'models');
const fp16Dir = process.argv[2] ?? join(models, 'fp16');

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function halfBits(v) { // round to nearest even; normal range (the inputs are ±2)
  f32[0] = v;
  const x = u32[0];
  const e = ((x >>> 23) & 0xff) - 127 + 15;
  if (v === 0 || e <= 0) return (x >>> 16) & 0x8000;
  let h = ((x >>> 16) & 0x8000) | (e << 10) | ((x & 0x7fffff) >>> 13);
  const rest = x & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
  return h;
}
function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

async function run(path, shape) {
  const session = await ort.InferenceSession.create(path, { executionProviders: ['cpu'] });
  const meta = session.inputMetadata[0];
  const n = shape.reduce((a, b) => a * b, 1);
  const [h, w] = shape.slice(2);
  const values = Float32Array.from({ length: n }, (_, i) => {
    const x = i % w, y = Math.floor(i / w) % h;
    const ink = Math.floor(y / 40) % 2 === 0 && x % 23 < 9 && y % 40 > 10;
    return ink ? -2 : 2;
  });
  const input = meta.type === 'float16'
    ? new ort.Tensor('float16', Uint16Array.from(values, halfBits), shape)
    : new ort.Tensor('float32', values, shape);
  const start = performance.now();
  const out = (await session.run({ [meta.name]: input }))[session.outputNames[0]];
  const ms = performance.now() - start;
  const data = out.type === 'float16' ? Float64Array.from(out.data, halfToFloat) : Float64Array.from(out.data);
  return { type: `${meta.type} -> ${out.type}`, dims: out.dims, data, ms };
}

let failed = 0;
for (const [name, shape] of [['ch_PP-OCRv4_rec_infer', [1, 3, 48, 320]], ['ch_PP-OCRv4_det_infer', [1, 3, 640, 640]]]) {
  try {
    const ref = await run(join(models, `${name}.onnx`), shape);
    const half = await run(join(fp16Dir, `${name}_fp16.onnx`), shape);
    let signal = 0, noise = 0, maxDiff = 0, finite = true;
    for (let i = 0; i < ref.data.length; i++) {
      const d = ref.data[i] - half.data[i];
      if (!Number.isFinite(half.data[i])) finite = false;
      signal += ref.data[i] ** 2;
      noise += d * d;
      maxDiff = Math.max(maxDiff, Math.abs(d));
    }
    if (!finite) failed++;
    const sqnr = 10 * Math.log10(signal / noise);
    console.log(`${name} [${shape}]: fp16 ${half.type} [${half.dims}] ${half.ms.toFixed(0)} ms (fp32 ${ref.ms.toFixed(0)} ms); `
      + `SQNR vs fp32 ${sqnr.toFixed(1)} dB, max |diff| ${maxDiff.toExponential(2)}${finite ? '' : ', NON-FINITE values'}`);
  } catch (err) {
    failed++;
    console.log(`${name}: FAIL ${err.message.split('\n')[0]}`);
  }
}
process.exit(failed ? 1 : 0);
