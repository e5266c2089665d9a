/**
 * Steps after a masked prune must see the pruned weight as the weight it is. Before a step, each
 * masked weight (the chain maskedStorage.ts writes) becomes a dense initializer of the same
 * name, exact bit for bit; after it, every such initializer the step left untouched (the very
 * same object, thanks to path copying) gets its original mask, non-zeros and chain back.
 */
import type { GraphInfo } from '../core/onnx/modelIndex';
import type { GraphProto, NodeProto, TensorProto } from '../core/onnx/proto';
import { DataType } from '../core/onnx/dataTypes';
import { isFloatSource, floatBytes } from './floatSource';
import { ModelPatch, applyPatch } from './patch';
import { stateOf } from './stateOf';
import { rawTensor } from './tensorBuild';
import type { ModelState } from './transform';

interface Masked {
  readonly name: string;
  readonly dense: TensorProto;
  readonly nodes: readonly NodeProto[];
  readonly stored: readonly TensorProto[];
}

const isDefault = (n: NodeProto): boolean => (n.domain ?? '') === '' || n.domain === 'ai.onnx';

function int64s(t: TensorProto | undefined): number[] | undefined {
  if (!t || t.dataType !== DataType.Int64 || !t.rawData || t.rawData.length % 8) return undefined;
  const v = new DataView(t.rawData.buffer, t.rawData.byteOffset, t.rawData.length);
  return Array.from({ length: t.rawData.length / 8 }, (_, i) => Number(v.getBigInt64(i * 8, true)));
}

/** The masked weight computed by `gather`, when it is exactly the chain maskedStorage.ts writes. */
function readMasked(gather: NodeProto, producers: Map<string, NodeProto>, inits: Map<string, TensorProto>): Masked | undefined {
  const nodes: NodeProto[] = [gather];
  const stored: TensorProto[] = [];
  const from = (value: string, op: string): NodeProto | undefined => {
    const n = producers.get(value);
    if (!n || n.opType !== op || !isDefault(n)) return undefined;
    nodes.push(n);
    return n;
  };
  const init = (name: string | undefined): TensorProto | undefined => {
    const t = name === undefined ? undefined : inits.get(name);
    if (t) stored.push(t);
    return t;
  };
  const values = init(gather.input[0]);
  const shaped = from(gather.input[1], 'Reshape');
  const mul = shaped && from(shaped.input[0], 'Mul');
  const cumsum = mul && from(mul.input[0], 'CumSum');
  if (!values || !isFloatSource(values.dataType ?? 0) || !values.rawData || !mul || !cumsum || cumsum.input[0] !== mul.input[1]) return undefined;
  const dims = int64s(init(shaped.input[1]));
  if (!dims || int64s(init(cumsum.input[1]))?.[0] !== 0) return undefined;
  const slice = producers.get(cumsum.input[0])?.opType === 'Slice' ? from(cumsum.input[0], 'Slice') : undefined;
  if (slice) [slice.input[1], slice.input[2]].forEach(init);
  const flat = from(slice ? slice.input[0] : cumsum.input[0], 'Reshape');
  const cast = flat && from(flat.input[0], 'Cast');
  const mod = cast && from(cast.input[0], 'Mod');
  const shift = mod && from(mod.input[0], 'BitShift');
  const column = shift && from(shift.input[0], 'Reshape');
  const shifts = shift && init(shift.input[1]);
  const mask = column && init(column.input[0]);
  if (!flat || !mod || !column || !mask?.rawData || mask.dataType !== DataType.Uint8) return undefined;
  [flat.input[1], mod.input[1], column.input[1]].forEach(init);
  if (shifts?.rawData?.join() !== '0,1,2,3,4,5,6,7' || stored.length !== nodes.length - 1 + (slice ? 1 : 0)) return undefined;
  // Rebuild the dense bytes: the r-th set bit takes non-zero r (entry r + 1 of values).
  const width = floatBytes(values.dataType as Parameters<typeof floatBytes>[0]);
  const n = dims.reduce((a, b) => a * b, 1);
  const raw = new Uint8Array(n * width);
  let r = 1;
  for (let i = 0; i < n; i++) {
    if (!((mask.rawData[i >> 3] >> (i & 7)) & 1)) continue;
    if ((r + 1) * width > values.rawData.length) return undefined;
    raw.set(values.rawData.subarray(r * width, (r + 1) * width), i * width);
    r++;
  }
  const name = gather.output[0];
  return { name, nodes, stored, dense: rawTensor(name, values.dataType!, dims, raw) };
}

function maskedIn(graph: GraphInfo): Masked[] {
  const g = graph.proto;
  if (!g || graph.kind === 'function') return [];
  const producers = new Map<string, NodeProto>();
  for (const n of g.node) for (const o of n.output) producers.set(o, n);
  const inits = new Map(g.initializer.map((t) => [t.name ?? '', t]));
  const found: Masked[] = [];
  for (const n of g.node) {
    if (n.opType !== 'Gather' || !isDefault(n)) continue;
    const m = readMasked(n, producers, inits);
    if (m) found.push(m);
  }
  return found;
}

export interface MaskedView {
  /** The model with every masked weight dense. */
  readonly state: ModelState;
  /** Stored bytes of each masked weight, by name. */
  readonly maskedBytes: ReadonlyMap<string, number>;
  /** `after` (computed from `state`) with the masked weights it did not touch stored masked again. */
  restore(after: ModelState): ModelState;
}

/** A dense view of the model's masked weights, or undefined when it has none. */
export function maskedView(before: ModelState): MaskedView | undefined {
  const patch = new ModelPatch();
  const all: Masked[] = [];
  for (const graph of before.index.graphs) {
    for (const m of maskedIn(graph)) {
      const p = patch.forGraph(graph.proto!);
      for (const n of m.nodes) p.replaceNodes.set(n, []);
      for (const t of m.stored) p.removeInitializers.add(t.name ?? '');
      p.addInitializers.push(m.dense);
      all.push(m);
    }
  }
  if (all.length === 0) return undefined;
  const byDense = new Map(all.map((m) => [m.dense, m]));
  return {
    state: stateOf(applyPatch(before.proto, patch), before.dir),
    maskedBytes: new Map(all.map((m) => [m.name, m.stored.reduce((n, t) => n + (t.rawData?.length ?? 0), 0)])),
    restore(after) {
      const back = new ModelPatch();
      const visit = (g: GraphProto): void => {
        for (const t of g.initializer) {
          const m = byDense.get(t);
          if (!m) continue;
          const p = back.forGraph(g);
          p.removeInitializers.add(m.name);
          p.addInitializers.push(...m.stored);
          p.prependNodes.push(...[...m.nodes].reverse());
        }
        for (const n of g.node) for (const a of n.attribute) [a.g, ...a.graphs].forEach((sg) => sg && visit(sg));
      };
      if (after.proto.graph) visit(after.proto.graph);
      return back.isEmpty ? after : stateOf(applyPatch(after.proto, back), after.dir);
    },
  };
}
