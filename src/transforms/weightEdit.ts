/**
 * Writing a transformed weight into a patch, wherever the original is stored: an initializer
 * (replaced in place, or removed and recomputed by nodes placed first in its graph) or a
 * Constant node (replaced by the nodes computing the same value name where it stood).
 */
import type { StoredTensor } from '../core/onnx/modelIndex';
import { AttributeType, type AttributeProto, type NodeProto, type TensorProto } from '../core/onnx/proto';
import type { ModelPatch } from './patch';

export function makeNode(
  opType: string,
  input: string[],
  output: string[],
  name: string,
  attributes: Partial<AttributeProto>[] = [],
  domain = '',
): NodeProto {
  return {
    opType, input, output, name, domain: domain || undefined,
    attribute: attributes.map((a) => ({
      floats: [], ints: [], strings: [], tensors: [], graphs: [], typeProtos: [], sparseTensors: [], ...a,
    })),
    metadataProps: [], deviceConfigurations: [],
  };
}

export const intAttr = (name: string, i: number): Partial<AttributeProto> => ({ name, i, type: AttributeType.Int });
export const floatAttr = (name: string, f: number): Partial<AttributeProto> => ({ name, f, type: AttributeType.Float });
export const stringAttr = (name: string, s: string): Partial<AttributeProto> => ({ name, s: new TextEncoder().encode(s), type: AttributeType.String });

function graphOf(t: StoredTensor) {
  const g = t.graph.proto;
  if (!g) throw new Error(`internal: tensor '${t.name}' has no graph message`);
  return g;
}

/** Gives a stored tensor new contents under the same name (same role, any data type). */
export function replaceTensorValue(patch: ModelPatch, t: StoredTensor, value: TensorProto): void {
  const p = patch.forGraph(graphOf(t));
  if (t.origin === 'constant' && t.node) {
    const old = t.node.node;
    p.replaceNodes.set(old, [{ ...old, attribute: old.attribute.map((a) => (a.name === 'value' ? { ...a, t: { ...value, name: undefined } } : a)) }]);
  } else {
    p.replaceInitializers.set(t.name, { ...value, name: t.name });
  }
}

/**
 * Replaces a stored tensor by new stored tensors and the nodes that rebuild its value from them
 * (the last node must output `t.name`). New tensors become initializers of the same graph.
 */
export function replaceTensorWithNodes(patch: ModelPatch, t: StoredTensor, stored: readonly TensorProto[], nodes: readonly NodeProto[]): void {
  const p = patch.forGraph(graphOf(t));
  p.addInitializers.push(...stored);
  if (t.origin === 'constant' && t.node) {
    p.replaceNodes.set(t.node.node, [...nodes]);
  } else {
    p.removeInitializers.add(t.name);
    if (t.graph.inputs.includes(t.name)) p.removeInputs.add(t.name);
    p.prependNodes.push(...nodes);
  }
}
