/**
 * Re-quantizing an already-quantized weight (its chain found by analyzers/realWeightChain.ts):
 * its real values read, and the chain that makes them (with the stored codes and parameters
 * nobody else reads) replaced by a new one, so consumers are unchanged.
 */
import type { StoredTensor } from '../core/onnx/modelIndex';
import type { NodeProto, TensorProto } from '../core/onnx/proto';
import type { Layer } from '../analyzers/layers';
import { dequantizeParams } from '../analyzers/dequantizeParams';
import { readRealFloat32 } from '../analyzers/realValues';
import { consumersOf, type RealWeightChain } from '../analyzers/realWeightChain';
import type { ModelPatch } from './patch';

/** The real values of an already-quantized weight, as the model computes them. */
export async function readRealWeight(layer: Layer, codes: StoredTensor): Promise<Float32Array> {
  return readRealFloat32(codes, await dequantizeParams(codes, layer.dequantized?.get(codes)));
}

/**
 * Replaces the chain by `nodes` (the last outputs `chain.value`) and `stored` tensors; the old
 * codes and parameters go unless another node still reads them.
 */
export function replaceRealWeight(patch: ModelPatch, chain: RealWeightChain, stored: readonly TensorProto[], nodes: readonly NodeProto[]): void {
  const graph = chain.stored[0].graph;
  const p = patch.forGraph(graph.proto!);
  p.addInitializers.push(...stored);
  chain.nodes.forEach((n, i) => p.replaceNodes.set(n, i === chain.nodes.length - 1 ? [...nodes] : []));
  const leaving = new Set(chain.nodes);
  const users = consumersOf(graph);
  for (const t of chain.stored) {
    if ((users.get(t.name) ?? []).some((n) => !leaving.has(n))) continue;
    if (t.origin === 'constant' && t.node) p.replaceNodes.set(t.node.node, []);
    else if (t.origin === 'initializer') {
      p.removeInitializers.add(t.name);
      if (graph.inputs.includes(t.name)) p.removeInputs.add(t.name);
    }
  }
}

