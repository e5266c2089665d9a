/**
 * Steps after a masked prune must see the pruned weight as the weight it is. Before a step, each
 * masked weight (the chain maskedStorage.ts writes) becomes a dense initializer of the same
 * name, exact bit for bit; after it, every such initializer the step left untouched (the very
 * same object, thanks to path copying) gets its original mask, non-zeros and chain back.
 */
import type { GraphInfo } from '../core/onnx/modelIndex';
import type { GraphProto, NodeProto, TensorProto } from '../core/onnx/proto';
import { readMaskedChain } from '../analyzers/maskedChain';
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

/** The masked weight computed by `gather`, when it is exactly the prune chain maskedStorage.ts writes. */
function readMasked(gather: NodeProto, producers: Map<string, NodeProto>, inits: Map<string, TensorProto>): Masked | undefined {
  const chain = readMaskedChain(gather, {
    producer: (v) => producers.get(v),
    stored: (v) => inits.get(v),
    dataType: (t) => t.dataType ?? 0,
    bytes: (t) => t.rawData,
  });
  // Masked cluster indices stay as they are: a dense float view would lose the codebook.
  const values = chain?.values;
  const mask = chain?.mask.rawData;
  if (!chain || chain.codebook || !values?.rawData || !mask || !isFloatSource(values.dataType ?? 0)) return undefined;
  // Rebuild the dense bytes: the r-th set bit takes non-zero r (entry r + 1 of values).
  const width = floatBytes(values.dataType as Parameters<typeof floatBytes>[0]);
  const n = chain.dims.reduce((a, b) => a * b, 1);
  if (mask.length !== Math.ceil(n / 8)) return undefined;
  const raw = new Uint8Array(n * width);
  let r = 1;
  for (let i = 0; i < n; i++) {
    if (!((mask[i >> 3] >> (i & 7)) & 1)) continue;
    if ((r + 1) * width > values.rawData.length) return undefined;
    raw.set(values.rawData.subarray(r * width, (r + 1) * width), i * width);
    r++;
  }
  const name = gather.output[0];
  return { name, nodes: chain.nodes, stored: chain.stored, dense: rawTensor(name, values.dataType!, chain.dims, raw) };
}

function maskedIn(graph: GraphInfo): Masked[] {
  const g = graph.proto;
  if (!g || graph.kind === 'function') return [];
  const producers = new Map<string, NodeProto>();
  for (const n of g.node) for (const o of n.output) producers.set(o, n);
  const inits = new Map(g.initializer.map((t) => [t.name ?? '', t]));
  const found: Masked[] = [];
  for (const n of g.node) {
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
