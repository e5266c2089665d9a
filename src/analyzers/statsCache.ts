/**
 * Remembers tensor statistics so that re-analysing is instant: by the tensor's protobuf object
 * (decoded messages are immutable, so an object is its content: untouched tensors keep theirs
 * across edits and undo) and, for tensors read from a file, by file, modification time, size and
 * position in the file (so re-opening an unchanged file hits too).
 */
import * as fs from 'node:fs';
import type { StoredTensor } from '../core/onnx/modelIndex';
import type { StatsOptions, TensorStats } from './tensorStats';

export class StatsCache {
  private readonly byObject = new WeakMap<object, Map<string, TensorStats>>();
  private readonly byLocation = new Map<string, TensorStats>();

  constructor(private readonly maxLocations = 20_000) {}

  /** A key for a model file's current version, or undefined for models with no file. */
  static fileVersion(file: string | undefined): string | undefined {
    if (!file) return undefined;
    try {
      const st = fs.statSync(file);
      return `${file}\u0000${st.mtimeMs}\u0000${st.size}`;
    } catch {
      return undefined;
    }
  }

  get(t: StoredTensor, options: StatsOptions, fileVersion: string | undefined): TensorStats | undefined {
    const key = optionsKey(options);
    const hit = this.byObject.get(t.proto)?.get(key);
    if (hit) return hit;
    if (!fileVersion) return undefined;
    const located = this.byLocation.get(locationKey(t, fileVersion, key));
    if (located) this.remember(t, options, fileVersion, located);
    return located;
  }

  set(t: StoredTensor, options: StatsOptions, fileVersion: string | undefined, stats: TensorStats): void {
    this.remember(t, options, fileVersion, stats);
  }

  private remember(t: StoredTensor, options: StatsOptions, fileVersion: string | undefined, stats: TensorStats): void {
    const key = optionsKey(options);
    let perObject = this.byObject.get(t.proto);
    if (!perObject) this.byObject.set(t.proto, (perObject = new Map()));
    perObject.set(key, stats);
    if (!fileVersion) return;
    const location = locationKey(t, fileVersion, key);
    this.byLocation.delete(location); // re-insert: the Map's order is the LRU order
    this.byLocation.set(location, stats);
    if (this.byLocation.size > this.maxLocations) this.byLocation.delete(this.byLocation.keys().next().value!);
  }
}

function optionsKey(o: StatsOptions): string {
  return [o.bins ?? 256, o.nearZeroEpsilon ?? 1e-3, o.channelAxis ?? '-', o.redundancy ?? true, o.logHistogram ?? false, o.exactClusteringElements ?? '-', o.dequantize?.key ?? '-'].join('|');
}

function locationKey(t: StoredTensor, fileVersion: string, options: string): string {
  return `${fileVersion}\u0000${t.where}\u0000${t.bytes}\u0000${options}`;
}
