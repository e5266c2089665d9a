/**
 * Which layers a recipe step names, and how each layer uses its weights: the axis that holds
 * output channels (per-channel scales, channel pruning) and the axis the op sums over (blocks,
 * N:M groups), known only when the stored tensor feeds the layer directly.
 */
import { OnnxError } from '../core/errors';
import { didYouMean } from '../core/didYouMean';
import { compileGlob, type Glob } from '../core/glob';
import { isFloatSource, notFloatReason } from './floatSource';
import { castOperand, weightRole, type WeightRole } from '../analyzers/weightRole';

export { weightRole, type WeightRole };
import { realWeightChain, type RealWeightChain } from '../analyzers/realWeightChain';
import type { StoredTensor } from '../core/onnx/modelIndex';
import type { AttributeProto, NodeProto } from '../core/onnx/proto';
import type { Layer, LayerAttribution } from '../analyzers/layers';
import { qualifiedLayerName } from '../shared/layerName';

export type LayerSelector = '*' | readonly string[];

/** The name a recipe uses for a layer: its label, prefixed by its graph for layers in subgraphs. */
export function layerName(layer: Layer): string {
  return qualifiedLayerName({ graph: layer.node.graph.path, name: layer.node.label });
}

/**
 * The layers a selector names, in graph order. Entries match a layer's name or label, ignoring
 * case, exactly or as a glob (`*`, `?`); an entry of either list that matches nothing is an error
 * naming the closest layer names, not a silent no-op.
 */
export function selectLayers(attribution: LayerAttribution, selector: LayerSelector, exclude: readonly string[] = []): Layer[] {
  // Case-insensitive: "*conv*" finds p2o.Conv.45; exporters' capitalization is not something to remember.
  const matchesAny = (layer: Layer, patterns: readonly Glob[]): boolean =>
    patterns.some((p) => p(layerName(layer)) || p(layer.node.label));
  for (const name of [...(selector === '*' ? [] : selector), ...exclude]) {
    if (!namesAnyLayer(name, attribution.layers)) {
      const field = selector !== '*' && selector.includes(name) ? '' : ` (in 'exclude')`;
      throw new OnnxError('unsupported', `no layer is named '${name}'${field}${layerHint(name, attribution.layers)}`, 'recipe');
    }
  }
  const excluded = exclude.map(compileGlob);
  const candidates = attribution.layers.filter((l) => !matchesAny(l, excluded));
  if (selector === '*') return candidates;
  const patterns = selector.map(compileGlob);
  return candidates.filter((l) => matchesAny(l, patterns));
}

/** Whether a selector entry (a name or glob, any case) matches a layer's name or label. */
export function namesAnyLayer(entry: string, layers: readonly Layer[]): boolean {
  const p = compileGlob(entry);
  return layers.some((l) => p(layerName(l)) || p(l.node.label));
}

/** The layer names nearest to a name that matched nothing: typos first, then names that contain it. */
function layerHint(name: string, layers: readonly Layer[]): string {
  const names = layers.map(layerName);
  const typo = didYouMean(name, names);
  if (typo || /[*?]/.test(name)) return typo;
  const part = name.toLowerCase();
  const containing = names.filter((n) => n.toLowerCase().includes(part));
  if (!containing.length) return '';
  const shown = containing.slice(0, 3).map((n) => `'${n}'`).join(', ');
  return ` (names containing it: ${shown}${containing.length > 3 ? ` and ${containing.length - 3} more` : ''})`;
}

export interface WeightTarget {
  readonly layer: Layer;
  readonly tensor: StoredTensor;
  /** Undefined when the tensor reaches the layer through other nodes (Transpose, Reshape...). */
  readonly role: WeightRole | undefined;
  /** Input position of the tensor in the layer node, when it feeds it directly or through Casts. */
  readonly operand: number | undefined;
  /** The type the layer reads it as, when it arrives through Cast nodes (a BFLOAT16 weight cast to FLOAT). */
  readonly castTo?: number;
  /** Those Cast/Identity nodes, from the tensor to the layer. */
  readonly casts?: readonly NodeProto[];
  /** For an already-quantized weight (codes + DequantizeLinear, or a clustered Gather): how its real values are made. */
  readonly real?: RealWeightChain;
}

/**
 * The layer's weights of rank ≥ 2 (biases and norms are left alone), with their roles. An
 * already-quantized weight is its codes, with the chain that makes its real values; the scales,
 * zero points and codebooks of that chain are not weights of their own, nor are a masked
 * weight's mask and non-zeros (the transforms see it dense, through maskedView.ts).
 */
export function layerWeights(layer: Layer): WeightTarget[] {
  const node = layer.node.node;
  const parameters = new Set<StoredTensor>();
  for (const d of layer.dequantized?.values() ?? []) {
    if (d.kind === 'codebook') parameters.add(d.codebook);
    else if (d.kind === 'masked') [d.mask, d.values, d.codebook].forEach((t) => t && parameters.add(t));
    else {
      parameters.add(d.scale);
      if (d.zeroPoint) parameters.add(d.zeroPoint);
    }
  }
  return layer.weights
    .filter((t) => t.dims.length >= 2 && t.elements > 0 && !parameters.has(t))
    .map((tensor) => {
      const real = realWeightChain(layer, tensor);
      const found = real ? castOperand(layer, real.value) : tensor.isValue ? castOperand(layer, tensor.name) : undefined;
      return {
        layer,
        tensor,
        operand: found?.operand,
        role: found ? weightRole(node, found.operand, tensor.dims.length) : undefined,
        ...(found?.castTo !== undefined ? { castTo: found.castTo } : {}),
        ...(found?.casts ? { casts: found.casts } : {}),
        ...(real ? { real } : {}),
      };
    });
}

/**
 * Why a weight cannot be rewritten by a transform that reads its real values and writes new
 * storage (quantize, cluster): a float weight, or an already-quantized one whose chain it replaces.
 */
export function rewritableBlocker(w: WeightTarget): string | undefined {
  if (!w.real) return floatWeightBlocker(w.tensor);
  if (w.tensor.graph.kind === 'function') return 'it lives inside a model-local function';
  return w.real.stored.some((t) => t.origin !== 'initializer' && t.origin !== 'constant') ? 'its quantization parameters are not plain stored tensors' : undefined;
}

/** Why a transform that edits float values in place (prune, factorize) cannot take the weight. */
export function inPlaceBlocker(w: WeightTarget): string | undefined {
  if (w.real) return `it is already stored as ${w.real.label}: apply this to the float model before quantizing`;
  return floatWeightBlocker(w.tensor);
}

/** The blocker a step's transform applies: quantize (weight-only) and cluster re-encode quantized weights; the others edit float values. */
export function blockerFor(step: { readonly transform: string; readonly mode?: string }): (w: WeightTarget) => string | undefined {
  const rewrites = step.transform === 'cluster' || (step.transform === 'quantize' && step.mode !== 'static');
  return rewrites ? rewritableBlocker : inPlaceBlocker;
}

/** Why a stored tensor cannot be rewritten as a float weight, or undefined when it can. */
export function floatWeightBlocker(t: StoredTensor): string | undefined {
  if (t.graph.kind === 'function') return 'it lives inside a model-local function';
  if (t.origin === 'sparse-initializer') return 'it is a sparse initializer';
  if (t.origin === 'attribute') return `it is an attribute of ${t.node?.label ?? 'a node'}`;
  if (t.origin === 'constant' && (t.proto as AttributeProto).name !== 'value') return 'it is a Constant given as a list';
  if (!isFloatSource(t.dataType)) return notFloatReason(t.dataType);
  return undefined;
}
