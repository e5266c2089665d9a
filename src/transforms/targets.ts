/**
 * Which layers a recipe step names, and how each layer uses its weights: the axis that holds
 * output channels (per-channel scales, channel pruning) and the axis the op sums over (blocks,
 * N:M groups), known only when the stored tensor feeds the layer directly.
 */
import { OnnxError } from '../core/errors';
import { isFloatSource, notFloatReason } from './floatSource';
import { realWeightChain, type RealWeightChain } from './realWeight';
import type { GraphInfo, StoredTensor } from '../core/onnx/modelIndex';
import type { AttributeProto, NodeProto } from '../core/onnx/proto';
import type { Layer, LayerAttribution } from '../analyzers/layers';
import { qualifiedLayerName } from '../analyzers/layerName';

export type LayerSelector = '*' | readonly string[];

/** The name a recipe uses for a layer: its label, prefixed by its graph for layers in subgraphs. */
export function layerName(layer: Layer): string {
  return qualifiedLayerName({ graph: layer.node.graph.path, name: layer.node.label });
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/**
 * The layers a selector names, in graph order. Entries match a layer's name or label exactly or
 * as a glob (`*`, `?`); an entry that matches nothing is an error, not a silent no-op.
 */
export function selectLayers(attribution: LayerAttribution, selector: LayerSelector, exclude: readonly string[] = []): Layer[] {
  const matchesAny = (layer: Layer, patterns: readonly RegExp[]): boolean =>
    patterns.some((p) => p.test(layerName(layer)) || p.test(layer.node.label));
  const excluded = exclude.map(globToRegExp);
  const candidates = attribution.layers.filter((l) => !matchesAny(l, excluded));
  if (selector === '*') return candidates;
  const patterns = selector.map(globToRegExp);
  patterns.forEach((p, i) => {
    if (!attribution.layers.some((l) => matchesAny(l, [p]))) {
      throw new OnnxError('unsupported', `no layer is named '${selector[i]}'`, 'recipe');
    }
  });
  return candidates.filter((l) => matchesAny(l, patterns));
}

export interface WeightRole {
  /** Axis of output channels (one scale per entry of it). */
  readonly channelAxis: number;
  /** Axis the op sums over (blocks and N:M groups run along it). */
  readonly reductionAxis: number;
}

function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a?.i !== undefined ? Number(a.i) : fallback;
}

/** How `node` uses the tensor at input `operand` of rank `rank`, when that is known. */
export function weightRole(node: NodeProto, operand: number, rank: number): WeightRole | undefined {
  if ((node.domain ?? '') !== '' && node.domain !== 'ai.onnx') return undefined;
  switch (node.opType) {
    case 'Conv':
      return operand === 1 && rank >= 3 ? { channelAxis: 0, reductionAxis: 1 } : undefined;
    case 'ConvTranspose':
      return operand === 1 && rank >= 3 ? { channelAxis: 1, reductionAxis: 0 } : undefined;
    case 'Gemm': {
      if (rank !== 2) return undefined;
      if (operand === 1) return intAttribute(node, 'transB', 0) ? { channelAxis: 0, reductionAxis: 1 } : { channelAxis: 1, reductionAxis: 0 };
      if (operand === 0) return intAttribute(node, 'transA', 0) ? { channelAxis: 1, reductionAxis: 0 } : { channelAxis: 0, reductionAxis: 1 };
      return undefined;
    }
    case 'MatMul':
      if (rank < 2) return undefined;
      if (operand === 1) return { channelAxis: rank - 1, reductionAxis: rank - 2 };
      if (operand === 0) return { channelAxis: rank - 2, reductionAxis: rank - 1 };
      return undefined;
    case 'Gather':
      return operand === 0 && rank === 2 && intAttribute(node, 'axis', 0) === 0 ? { channelAxis: 0, reductionAxis: 1 } : undefined;
    case 'LSTM':
    case 'GRU':
    case 'RNN':
      return (operand === 1 || operand === 2) && rank === 3 ? { channelAxis: 1, reductionAxis: 2 } : undefined;
    default:
      return undefined;
  }
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

const producerMaps = new WeakMap<GraphInfo, Map<string, NodeProto>>();

function producersOf(graph: GraphInfo): Map<string, NodeProto> {
  let m = producerMaps.get(graph);
  if (!m) {
    m = new Map();
    for (const n of graph.nodes) for (const o of n.node.output) if (o) m.set(o, n.node);
    producerMaps.set(graph, m);
  }
  return m;
}

/** The operand a stored tensor feeds through a chain of Cast/Identity nodes, and the last Cast's type. */
function castOperand(layer: Layer, value: string): { operand: number; castTo?: number; casts?: NodeProto[] } | undefined {
  const node = layer.node.node;
  const direct = node.input.indexOf(value);
  if (direct >= 0) return { operand: direct };
  const producers = producersOf(layer.node.graph);
  for (let operand = 0; operand < node.input.length; operand++) {
    let name = node.input[operand];
    let castTo: number | undefined;
    const chain: NodeProto[] = [];
    for (let hops = 0; hops < 4; hops++) {
      const p = producers.get(name);
      const op = p?.opType;
      if (!p || ((p.domain ?? '') !== '' && p.domain !== 'ai.onnx') || (op !== 'Cast' && op !== 'Identity')) break;
      if (op === 'Cast') castTo ??= Number(p.attribute.find((a) => a.name === 'to')?.i ?? 0);
      chain.unshift(p);
      name = p.input[0];
      if (name === value) return { operand, castTo, casts: chain };
    }
  }
  return undefined;
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

/** Why a stored tensor cannot be rewritten as a float weight, or undefined when it can. */
export function floatWeightBlocker(t: StoredTensor): string | undefined {
  if (t.graph.kind === 'function') return 'it lives inside a model-local function';
  if (t.origin === 'sparse-initializer') return 'it is a sparse initializer';
  if (t.origin === 'attribute') return `it is an attribute of ${t.node?.label ?? 'a node'}`;
  if (t.origin === 'constant' && (t.proto as AttributeProto).name !== 'value') return 'it is a Constant given as a list';
  if (!isFloatSource(t.dataType)) return notFloatReason(t.dataType);
  return undefined;
}
