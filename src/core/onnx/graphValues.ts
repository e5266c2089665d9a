/** The graph's inputs (the ones fed at run time, not initializers) and outputs, as people read them. */
import { dataTypeName } from './dataTypes';
import type { ModelProto, ValueInfoProto } from './proto';

export interface GraphValue {
  readonly name: string;
  readonly dataType: string;
  /** Dims; symbolic ones by name ('?' when unnamed). */
  readonly shape: readonly (number | string)[];
}

function valueOf(v: ValueInfoProto): GraphValue {
  return {
    name: v.name ?? '',
    dataType: dataTypeName(v.type?.tensorType?.elemType),
    shape: v.type?.tensorType?.shape?.dim.map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : d.dimParam || '?')) ?? [],
  };
}

export function graphValues(proto: ModelProto): { inputs: GraphValue[]; outputs: GraphValue[] } {
  const graph = proto.graph;
  if (!graph) return { inputs: [], outputs: [] };
  const stored = new Set(graph.initializer.map((t) => t.name));
  return { inputs: graph.input.filter((v) => !stored.has(v.name)).map(valueOf), outputs: graph.output.map(valueOf) };
}

/** Parses "1x3x48x192" against an input's dims: same rank, fixed dims kept; an error message or the dims. */
export function parseShape(text: string, shape: readonly (number | string)[]): number[] | string {
  const dims = text.trim().split(/\s*[x×,]\s*/).map(Number);
  if (dims.length !== shape.length) return `give ${shape.length} dims, e.g. ${shape.map((d) => (typeof d === 'number' ? d : 1)).join('x')}`;
  for (const [i, d] of dims.entries()) {
    if (!Number.isInteger(d) || d < 1) return `axis ${i} (0-based) must be a positive whole number`;
    if (typeof shape[i] === 'number' && shape[i] !== d) return `axis ${i} (0-based) is fixed at ${shape[i]} in the model`;
  }
  return dims;
}
