/**
 * Folding BatchNormalization into the Conv before it (inference only): W' = W·γ/√(σ²+ε) per output
 * channel, b' = (b − μ)·γ/√(σ²+ε) + β. Done before static quantization so each Conv is quantized
 * with its final weights and onnxruntime can fuse Conv and activation into one integer kernel.
 */
import { readDenseFloat32 } from '../core/onnx/tensorData';
import type { NodeInfo, StoredTensor } from '../core/onnx/modelIndex';
import type { Layer } from '../analyzers/layers';
import { ModelPatch, applyPatch } from './patch';
import { NameAllocator } from './names';
import { floatSourceTensor, type FloatSource } from './floatSource';
import { replaceTensorValue } from './weightEdit';
import { floatWeightBlocker } from './targets';
import { stateOf } from './stateOf';
import type { ModelState } from './transform';

export async function foldBatchNorms(state: ModelState, layers: readonly Layer[]): Promise<{ state: ModelState; folded: number }> {
  const main = state.index.graphs.find((g) => g.kind === 'main');
  if (!main?.proto) return { state, folded: 0 };
  const stored = new Map<string, StoredTensor>();
  for (const t of state.index.tensors) if (t.isValue && t.graph === main) stored.set(t.name, t);
  const uses = new Map<string, number>();
  for (const n of state.index.nodes) for (const i of n.node.input) uses.set(i, (uses.get(i) ?? 0) + 1);
  const outputs = new Set(main.proto.output.map((o) => o.name));
  const consumerOf = new Map<string, NodeInfo>();
  for (const n of main.nodes) for (const i of n.node.input) consumerOf.set(i, n);
  const selected = new Set(layers.map((l) => l.node));
  const patch = new ModelPatch();
  const p = patch.forGraph(main.proto);
  const names = new NameAllocator(state.index);
  let folded = 0;
  const floatParam = (name: string | undefined, length: number): StoredTensor | undefined => {
    const t = name ? stored.get(name) : undefined;
    return t && !floatWeightBlocker(t) && t.elements === length && (uses.get(name!) ?? 0) === 1 ? t : undefined;
  };
  for (const conv of main.nodes) {
    if (conv.node.opType !== 'Conv' || (conv.node.domain ?? '') !== '' || !selected.has(conv)) continue;
    const out = conv.node.output[0];
    const bn = consumerOf.get(out);
    if (!bn || bn.node.opType !== 'BatchNormalization' || (uses.get(out) ?? 0) !== 1 || outputs.has(out) || bn.node.input[0] !== out) continue;
    if (bn.node.output.slice(1).some((o) => o)) continue; // training-mode outputs
    const w = stored.get(conv.node.input[1]);
    if (!w || floatWeightBlocker(w) || (uses.get(w.name) ?? 0) !== 1) continue;
    const channels = w.dims[0];
    const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => floatParam(bn.node.input[i], channels));
    const bias = conv.node.input[2] ? floatParam(conv.node.input[2], channels) : undefined;
    if (!gamma || !beta || !mean || !variance || (conv.node.input[2] && !bias)) continue;
    const epsilon = bn.node.attribute.find((a) => a.name === 'epsilon')?.f ?? 1e-5;
    const [g, b0, m, v] = await Promise.all([gamma, beta, mean, variance].map(readDenseFloat32));
    const weights = await readDenseFloat32(w);
    const b = bias ? await readDenseFloat32(bias) : new Float32Array(channels);
    const perChannel = weights.length / channels;
    const newBias = new Float32Array(channels);
    for (let c = 0; c < channels; c++) {
      const f = g[c] / Math.sqrt(v[c] + epsilon);
      for (let k = 0; k < perChannel; k++) weights[c * perChannel + k] *= f;
      newBias[c] = (b[c] - m[c]) * f + b0[c];
    }
    // Folded values keep the weight's type (a FLOAT16 model stays FLOAT16).
    const type = w.dataType as FloatSource;
    replaceTensorValue(patch, w, floatSourceTensor(w.name, type, w.dims, weights));
    let biasName = conv.node.input[2];
    if (bias) replaceTensorValue(patch, bias, floatSourceTensor(bias.name, bias.dataType as FloatSource, [channels], newBias));
    else {
      biasName = names.fresh(`${w.name}_folded_bias`);
      p.addInitializers.push(floatSourceTensor(biasName, type, [channels], newBias));
    }
    // Named after its label so later steps find it even if it had no name.
    p.replaceNodes.set(conv.node, [{ ...conv.node, name: conv.label, input: [conv.node.input[0], w.name, biasName], output: [bn.node.output[0]] }]);
    p.replaceNodes.set(bn.node, []);
    // The normalization's parameters go with it.
    for (const t of [gamma, beta, mean, variance]) {
      if (t.origin === 'constant' && t.node) p.replaceNodes.set(t.node.node, []);
      else p.removeInitializers.add(t.name);
    }
    p.removeValueInfo.add(out);
    folded++;
  }
  if (folded === 0) return { state, folded };
  return { state: stateOf(applyPatch(state.proto, patch), state.dir), folded };
}
