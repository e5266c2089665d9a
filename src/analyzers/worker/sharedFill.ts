/**
 * The workers' side of reading a model once for all of them (see protocol.ts's SharedFill): each
 * reads its slice of the file into the shared memory, then waits until every slice is in. Reading
 * in parallel halves the main thread's read of an 86 MB model (and the page faults of touching
 * fresh memory), and the reads overlap the workers' own start.
 */
import * as fs from 'node:fs';
import type { SharedFill } from './protocol';

const DONE = 0;
const FAILED = 1;
/** A worker that never counts itself done (it crashed) costs the others this long at most. */
const WAIT_MS = 30_000;

/** Reads this worker's slice, waits for the others; false when some read failed or timed out (read the file alone then). */
export function fillShared(file: string, bytes: SharedArrayBuffer, fill: SharedFill): boolean {
  const ready = new Int32Array(fill.ready);
  const size = bytes.byteLength;
  const from = Math.floor((size * fill.part) / fill.parts);
  const to = Math.floor((size * (fill.part + 1)) / fill.parts);
  if (!readSlice(file, new Uint8Array(bytes), from, to)) Atomics.store(ready, FAILED, 1);
  Atomics.add(ready, DONE, 1);
  Atomics.notify(ready, DONE);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const done = Atomics.load(ready, DONE);
    if (done >= fill.parts) break;
    const left = deadline - Date.now();
    if (left <= 0) return false;
    Atomics.wait(ready, DONE, done, left);
  }
  return Atomics.load(ready, FAILED) === 0;
}

function readSlice(file: string, view: Uint8Array, from: number, to: number): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    if (fs.fstatSync(fd).size !== view.length) return false; // changed since the client looked
    for (let at = from; at < to; ) {
      const read = fs.readSync(fd, view, at, to - at, at);
      if (read === 0) return false;
      at += read;
    }
    return true;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
