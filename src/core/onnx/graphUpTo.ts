/**
 * The part of a graph that computes some of its values: onnxruntime runs every node of a model
 * whatever outputs are fetched, so a calibration run that needs the inputs of the first layers
 * runs a model cut after them (GPTQ on a 24-block transformer: half the work on average).
 */
import type { GraphProto, NodeProto, ValueInfoProto } from './proto';

/** Whether a node holds a subgraph, which may read any value of the graph around it unnamed. */
const hasSubgraph = (n: NodeProto): boolean => n.attribute.some((a) => a.g !== undefined || a.graphs.length > 0);

/**
 * `graph` with `outputs` as its outputs and only the nodes they depend on (inputs and
 * initializers kept as they are). With a subgraph anywhere, every node is kept: its reads are
 * not listed on the node.
 */
export function graphUpTo(graph: GraphProto, outputs: readonly ValueInfoProto[]): GraphProto {
  if (graph.node.some(hasSubgraph)) return { ...graph, output: outputs };
  const producer = new Map<string, number>();
  graph.node.forEach((n, i) => n.output.forEach((o) => o && producer.set(o, i)));
  const needed = new Set<number>();
  const pending = outputs.map((o) => o.name ?? '');
  while (pending.length > 0) {
    const at = producer.get(pending.pop()!);
    if (at === undefined || needed.has(at)) continue;
    needed.add(at);
    pending.push(...graph.node[at].input.filter((v) => v !== ''));
  }
  const node = graph.node.filter((_, i) => needed.has(i));
  // Initializers no kept node reads go too (onnxruntime would warn about each one and drop it).
  const read = new Set([...node.flatMap((n) => n.input), ...outputs.map((o) => o.name)]);
  return { ...graph, node, initializer: graph.initializer.filter((t) => read.has(t.name)), output: outputs };
}
