/**
 * The WebAssembly quantization kernel (quantKernel.wat) on the chunk the statistics kernel holds:
 * INT8/INT4 per tensor and per channel and UINT8/UINT4 per tensor in one pass, adding into the
 * same meters the JavaScript (tensorStats.ts's quantizeChunk, the reference) adds into. Noise
 * energies differ from the JavaScript only in the order of their float64 sums; codes, maximum
 * errors and counts are the same.
 */
import kernelBytes from './quantKernel.wat';
import type { StatsKernel } from './statsKernel';
import type { AsymmetricMeter, QuantErrorMeter } from '../quantize';

interface KernelExports {
  quant(p: number, n: number, c8: number, c4: number, step: number, params: number, acc: number, counts: number): void;
}

/** What one tensor's quantization adds into; the same object the JavaScript path uses. */
export interface QuantState {
  perTensor: { int8: QuantErrorMeter; int4: QuantErrorMeter };
  asymmetric: { uint8: AsymmetricMeter; uint4: AsymmetricMeter };
  perChannel: { int8: QuantErrorMeter; int4: QuantErrorMeter } | null;
  tensorScale8: number;
  tensorScale4: number;
  channelScale8: Float64Array | null;
  channelScale4: Float64Array | null;
  /** Counts of the INT8 codes (per channel when there are channels), index code + 128. */
  int8Codes: Float64Array;
}

const PAGE = 65536;
const PARAMS_BYTES = 96 + 4 * 16; // six splats, four lane masks
const ACC_BYTES = 80;
const COUNTS_BYTES = 256 * 4 * 4;

const instances = new WeakMap<WebAssembly.Memory, KernelExports>();

function kernelFor(memory: WebAssembly.Memory): KernelExports {
  let k = instances.get(memory);
  if (!k) {
    k = new WebAssembly.Instance(new WebAssembly.Module(kernelBytes), { stats: { memory } }).exports as unknown as KernelExports;
    instances.set(memory, k);
  }
  return k;
}

/**
 * Quantizes the chunk `stats` holds (values first..first + count of the tensor, all finite) into
 * `q`. `channels`: the channel of element i is floor(i / inner) % size; null for none.
 */
export function kernelQuantize(stats: StatsKernel, first: number, q: QuantState, channels: { inner: number; size: number } | null): void {
  const { memory, at, count } = stats.chunk;
  const kernel = kernelFor(memory);
  const perChannel = channels !== null && q.perChannel !== null && q.channelScale8 !== null && q.channelScale4 !== null;
  const size = perChannel ? channels.size : 1;
  const byValue = perChannel && channels.inner === 1; // a scale for each value: the channel axis is the last
  // After the chunk (and 16 bytes it may read past its end): parameters, sums, counts, then the
  // per-channel scales as splats (one per channel) or as runs (one per value, padded with 1s).
  const paramsAt = align16(at + count * 4 + 16);
  const accAt = paramsAt + PARAMS_BYTES;
  const countsAt = accAt + ACC_BYTES;
  const scalesAt = countsAt + COUNTS_BYTES;
  const scaleBytes = byValue ? align16(size * 4 + 16) : size * 16;
  const needed = scalesAt + 2 * scaleBytes;
  if (needed > memory.buffer.byteLength) memory.grow(Math.ceil((needed - memory.buffer.byteLength) / PAGE));
  const buffer = memory.buffer;

  const params = new Float32Array(buffer, paramsAt, PARAMS_BYTES / 4);
  const { uint8, uint4 } = q.asymmetric;
  [q.tensorScale8, q.tensorScale4, uint8.scale, uint8.zero, uint4.scale, uint4.zero].forEach((v, i) => params.fill(v, 4 * i, 4 * i + 4));
  const masks = new Uint32Array(buffer, paramsAt + 96, 16);
  for (let rem = 0; rem < 4; rem++) for (let lane = 0; lane < 4; lane++) masks[4 * rem + lane] = lane < rem ? 0xffffffff : 0;
  new Float64Array(buffer, accAt, 10).fill(0);
  const counts = new Uint32Array(buffer, countsAt, 256 * 4);
  counts.fill(0);
  const scales8 = new Float32Array(buffer, scalesAt, scaleBytes / 4);
  const scales4 = new Float32Array(buffer, scalesAt + scaleBytes, scaleBytes / 4);
  if (!perChannel) {
    scales8.fill(q.tensorScale8);
    scales4.fill(q.tensorScale4);
  } else if (byValue) {
    scales8.fill(1);
    scales4.fill(1);
    scales8.set(q.channelScale8!);
    scales4.set(q.channelScale4!);
  } else {
    for (let c = 0; c < size; c++) {
      scales8.fill(q.channelScale8![c], 4 * c, 4 * c + 4);
      scales4.fill(q.channelScale4![c], 4 * c, 4 * c + 4);
    }
  }

  // Runs of one channel (or, by value, rows of channels), each padded to whole vectors.
  let padded = 0;
  const run = (from: number, length: number, scaleAt: number, step: number): void => {
    kernel.quant(at + from * 4, length, scalesAt + scaleAt, scalesAt + scaleBytes + scaleAt, step, paramsAt, accAt, countsAt);
    padded += (4 - (length % 4)) % 4;
  };
  if (!perChannel) run(0, count, 0, 0);
  else if (byValue) {
    for (let i = 0, c = first % size; i < count; c = 0) {
      const length = Math.min(size - c, count - i);
      run(i, length, 4 * c, 16);
      i += length;
    }
  } else {
    const { inner } = channels;
    for (let i = 0, c = Math.floor(first / inner) % size, length = inner - (first % inner); i < count; length = inner) {
      length = Math.min(length, count - i);
      run(i, length, 16 * c, 0);
      i += length;
      if (++c === size) c = 0;
    }
  }

  const acc = new Float64Array(buffer, accAt, 10);
  const meters = [q.perTensor.int8, q.perTensor.int4, uint8, uint4, q.perChannel?.int8, q.perChannel?.int4];
  meters.forEach((m, i) => {
    if (m) m.noiseEnergy += acc[i];
  });
  [q.perTensor.int8, q.perTensor.int4, q.perChannel?.int8, q.perChannel?.int4].forEach((m, i) => {
    if (m && acc[6 + i] > m.maxAbsError) m.maxAbsError = acc[6 + i];
  });
  for (let code = 0; code < 256; code++) {
    const k = 4 * code;
    q.int8Codes[code] += counts[k] + counts[k + 1] + counts[k + 2] + counts[k + 3];
  }
  q.int8Codes[128] -= padded; // the padding's zeros
}

function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}
