/** Measures the Compression Report's size figures: stored bytes, gzip -6 and order-0 entropy. */
import * as zlib from 'node:zlib';
import { openModel } from '../core/onnx/model';
import { stateOf, storedBytes } from '../transforms/apply';
import type { SizeFigures } from './compressionReport';

/** Figures of a model file as it is on disk. */
export async function fileFigures(file: string, signal?: AbortSignal): Promise<SizeFigures> {
  const model = openModel(file);
  return measureSizes([model.bytes], storedBytes(stateOf(model.proto, model.dir)), signal);
}

/**
 * Size figures of serialized model bytes, given as the parts an encoder produced (no copy into
 * one buffer). gzip runs on libuv's thread pool, not the caller's thread; with a signal, the byte
 * count yields to the event loop every 8 MB (a 100 MB model would otherwise hold the caller's
 * thread for a tenth of a second) and an abort stops both.
 */
export async function measureSizes(parts: readonly Uint8Array[], weightBytes: number, signal?: AbortSignal): Promise<SizeFigures> {
  const counts = new Float64Array(256);
  let bytes = 0;
  const gzipBytes = gzipLength(parts, signal); // runs meanwhile
  gzipBytes.catch(() => undefined); // an abort rejects it before it is awaited; the await below still throws
  try {
    let sinceYield = 0; // an encoder gives one part per tensor: yield by bytes counted, not per part
    for (const p of parts) {
      for (let start = 0; start < p.length; start += COUNT_SLICE) {
        const end = Math.min(p.length, start + COUNT_SLICE);
        for (let i = start; i < end; i++) counts[p[i]]++;
        sinceYield += end - start;
        if (signal && sinceYield >= COUNT_SLICE) {
          sinceYield = 0;
          await new Promise<void>((resolve) => setImmediate(resolve));
          signal.throwIfAborted();
        }
      }
      bytes += p.length;
    }
  } finally {
    if (signal?.aborted) await gzipBytes.catch(() => undefined); // let gzip's stream close before reporting the abort
  }
  return { bytes, weightBytes, gzipBytes: await gzipBytes, entropyBytes: Math.ceil(entropyBits(counts, bytes) / 8) };
}

const COUNT_SLICE = 8 * 1024 * 1024;

async function gzipLength(parts: readonly Uint8Array[], signal?: AbortSignal): Promise<number> {
  signal?.throwIfAborted();
  const zip = zlib.createGzip({ level: 6 });
  let length = 0;
  zip.on('data', (chunk: Buffer) => (length += chunk.length));
  const done = new Promise<void>((resolve, reject) => {
    zip.on('end', resolve);
    zip.on('error', reject);
    zip.on('close', () => (signal?.aborted ? reject(signal.reason) : undefined));
  });
  const stop = (): void => void zip.destroy();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for (const p of parts) {
      if (signal?.aborted) break;
      if (!zip.write(p)) await Promise.race([new Promise((resolve) => zip.once('drain', resolve)), done]);
    }
    zip.end();
    await done;
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  return length;
}

/** Total information of `total` bytes under their own byte frequencies, in bits. */
export function entropyBits(counts: Float64Array, total: number): number {
  let bits = 0;
  for (const c of counts) if (c > 0) bits -= c * Math.log2(c / total);
  return bits;
}
