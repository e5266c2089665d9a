/** Fresh value and node names that collide with nothing anywhere in the model. */
import type { ModelIndex } from '../core/onnx/modelIndex';

export class NameAllocator {
  private readonly taken = new Set<string>();

  constructor(index: ModelIndex) {
    for (const g of index.graphs) {
      for (const name of g.inputs) this.taken.add(name);
      for (const v of g.declared) if (v.name) this.taken.add(v.name);
      for (const t of g.proto?.initializer ?? []) if (t.name) this.taken.add(t.name);
    }
    for (const n of index.nodes) {
      for (const o of n.node.output) this.taken.add(o);
      if (n.node.name) this.taken.add(n.node.name);
    }
    for (const t of index.tensors) this.taken.add(t.name);
  }

  /** `base` if free, else `base_2`, `base_3`...; the name is then taken. */
  fresh(base: string): string {
    let name = base;
    for (let i = 2; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }
}
