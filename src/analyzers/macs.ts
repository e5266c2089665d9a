/**
 * Multiply-accumulates per node, from inferred shapes: Conv (all flavours), ConvTranspose, Gemm,
 * MatMul (including activation × activation, as in attention), LSTM/GRU/RNN. A node whose shapes
 * are not fully known gets null and is listed as unresolved: no guessing.
 */
import { MS_DOMAIN } from './quantizedOps';
import type { ModelIndex, NodeInfo } from '../core/onnx/modelIndex';
import { type Shape, type ShapeInference } from './shapes';

export interface MacsReport {
  /** MACs of each compute node; null when its shapes are unknown. */
  readonly perNode: ReadonlyMap<NodeInfo, number | null>;
  /** Sum over the nodes that resolved. */
  readonly total: number;
  readonly unresolved: readonly NodeInfo[];
}

const COMPUTE = new Set(['Conv', 'ConvInteger', 'QLinearConv', 'ConvTranspose', 'Gemm', 'MatMul', 'MatMulInteger', 'QLinearMatMul', 'LSTM', 'GRU', 'RNN']);

const product = (s: Shape | undefined): number | undefined =>
  s && s.every((d) => d !== undefined) ? (s as number[]).reduce((p, d) => p * d, 1) : undefined;

export function isMacNode(n: NodeInfo): boolean {
  const domain = n.node.domain ?? '';
  if (domain === MS_DOMAIN) return n.node.opType === 'MatMulNBits';
  return COMPUTE.has(n.node.opType ?? '') && (domain === '' || domain === 'ai.onnx');
}

export function nodeMacs(n: NodeInfo, shapes: ShapeInference): number | null {
  const { node, graph } = n;
  const op = node.opType ?? '';
  const shape = (name: string | undefined): Shape | undefined => (name ? shapes.shapeOf(name, graph) : undefined);
  const attr = (name: string): number | undefined => {
    const a = node.attribute.find((x) => x.name === name);
    return a?.i !== undefined ? Number(a.i) : undefined;
  };
  let macs: number | undefined;
  switch (op) {
    case 'Conv':
    case 'ConvInteger':
    case 'QLinearConv': {
      // Each output element takes (C/group) · kernel MACs: the product of W's dims after the first.
      const w = shape(node.input[op === 'QLinearConv' ? 3 : 1]);
      const out = product(shape(node.output[0]));
      const perOutput = w ? product(w.slice(1)) : undefined;
      macs = out !== undefined && perOutput !== undefined ? out * perOutput : undefined;
      break;
    }
    case 'ConvTranspose': {
      // Each input element scatters into (M/group) · kernel outputs.
      const x = product(shape(node.input[0]));
      const w = shape(node.input[1]);
      const perInput = w ? product(w.slice(1)) : undefined;
      macs = x !== undefined && perInput !== undefined ? x * perInput : undefined;
      break;
    }
    case 'Gemm': {
      const a = shape(node.input[0]);
      const out = product(shape(node.output[0]));
      const k = a && a.length === 2 ? (attr('transA') ? a[0] : a[1]) : undefined;
      macs = out !== undefined && k !== undefined ? out * k : undefined;
      break;
    }
    case 'MatMul':
    case 'MatMulInteger':
    case 'QLinearMatMul': {
      const a = shape(node.input[0]);
      const out = product(shape(node.output[0]));
      const k = a ? a[a.length - 1] : undefined;
      macs = out !== undefined && k !== undefined ? out * k : undefined;
      break;
    }
    case 'MatMulNBits': {
      // A [..., K] times the packed B: K · N per row of A, from the op's attributes.
      const rows = product(shape(node.input[0])?.slice(0, -1));
      const [k, n] = [attr('K'), attr('N')];
      macs = rows !== undefined && k && n ? rows * k * n : undefined;
      break;
    }
    case 'LSTM':
    case 'GRU':
    case 'RNN': {
      const x = shape(node.input[0]);
      const hidden = attr('hidden_size');
      const dirs = node.attribute.some((a) => a.name === 'direction' && a.s && new TextDecoder().decode(a.s) === 'bidirectional') ? 2 : 1;
      const gates = op === 'LSTM' ? 4 : op === 'GRU' ? 3 : 1;
      const steps = x && x.length === 3 ? product(x.slice(0, 2)) : undefined; // seq · batch
      const input = x?.[2];
      macs = steps !== undefined && input !== undefined && hidden ? steps * dirs * gates * hidden * (input + hidden) : undefined;
      break;
    }
  }
  return macs ?? null;
}

export function countMacs(index: ModelIndex, shapes: ShapeInference): MacsReport {
  const perNode = new Map<NodeInfo, number | null>();
  const unresolved: NodeInfo[] = [];
  let total = 0;
  for (const n of index.nodes) {
    if (!isMacNode(n)) continue;
    const m = nodeMacs(n, shapes);
    perNode.set(n, m);
    if (m === null) unresolved.push(n);
    else total += m;
  }
  return { perNode, total, unresolved };
}
