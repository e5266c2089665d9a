/**
 * The range of token ids an integer input takes: a Gather (axis 0) that looks its values up in a
 * stored table of V rows accepts ids 0..V-1, so synthetic ids are drawn there. The ids may pass
 * through shape-only ops or a Cast first, and the table may be stored quantized (behind a
 * DequantizeLinear) or in another type (behind a Cast), or be the packed data of onnxruntime's
 * GatherBlockQuantized (com.microsoft), whose rows along gather_axis are the vocabulary.
 */
import type { ModelProto, NodeProto } from '../core/onnx/proto';

/** Ops that carry ids through unchanged in value. */
const PASS_THROUGH = new Set(['Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten', 'Identity']);
const TABLE_WRAPPERS = new Set(['DequantizeLinear', 'Cast', 'Identity']);

function intAttribute(node: NodeProto, name: string): number | undefined {
  const a = node.attribute.find((x) => x.name === name);
  return a?.i === undefined ? undefined : Number(a.i);
}

/** Per graph input, the vocabulary size of the embedding table it indexes (inputs that index none are absent). */
export function vocabularySizes(proto: ModelProto): Record<string, number> {
  const graph = proto.graph;
  if (!graph) return {};
  const stored = new Map(graph.initializer.map((t) => [t.name ?? '', t]));
  const producer = new Map<string, NodeProto>();
  const readers = new Map<string, NodeProto[]>();
  for (const n of graph.node) {
    for (const o of n.output) producer.set(o, n);
    for (const i of n.input) readers.set(i, [...(readers.get(i) ?? []), n]);
  }
  const tableRows = (name: string): number | undefined => {
    for (let depth = 0; depth < 3; depth++) {
      const t = stored.get(name);
      if (t) return t.dims.length >= 1 ? Number(t.dims[0]) : undefined;
      const p = producer.get(name);
      if (!p || !TABLE_WRAPPERS.has(p.opType ?? '')) return undefined;
      name = p.input[0];
    }
    return undefined;
  };
  const sizes: Record<string, number> = {};
  for (const input of graph.input) {
    if (stored.has(input.name ?? '')) continue;
    const seen = new Set<string>();
    const queue = [input.name ?? ''];
    while (queue.length) {
      const value = queue.shift()!;
      if (seen.has(value)) continue;
      seen.add(value);
      for (const n of readers.get(value) ?? []) {
        const gathers = (n.opType === 'Gather' && (intAttribute(n, 'axis') ?? 0) === 0) || (n.opType === 'GatherBlockQuantized' && (intAttribute(n, 'gather_axis') ?? 0) === 0);
        if (gathers && n.input[1] === value) {
          const rows = tableRows(n.input[0]);
          if (rows && rows > 0) sizes[input.name ?? ''] = Math.min(sizes[input.name ?? ''] ?? Infinity, rows);
        } else if (PASS_THROUGH.has(n.opType ?? '') && n.input[0] === value) queue.push(n.output[0]);
      }
    }
  }
  return sizes;
}
