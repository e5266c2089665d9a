/**
 * Low-rank factorization: a weight W is replaced by two smaller factors, W ≈ A·B, and its layer
 * by two layers. MatMul(X, W) → MatMul(MatMul(X, A), B); Gemm(X, W, C) → Gemm(MatMul(X, A), B, C)
 * with alpha, beta and transB carried over; Conv with W [O, I, k…] → a Conv with rank filters of
 * the original kernel (B) followed by a 1×1 Conv with O filters (A) that adds the bias. Applied
 * only where it lowers the parameter count and where the weight has no other consumer.
 */
import { gemmKernel } from '../analyzers/wasm/gemmKernel';
import { kernelsEnabled } from '../analyzers/wasm/kernelSwitch';
import { transposed } from '../core/transpose';
import { readDenseFloat32 } from '../core/onnx/tensorData';
import type { NodeProto } from '../core/onnx/proto';
import { rankForEnergy, singularEnergies } from '../analyzers/lowRank';
import type { Layer } from '../analyzers/layers';
import type { FactorizeStep } from './recipe';
import { floatBytes, floatName, floatSourceTensor, nonFiniteReason, roundedTo, type FloatSource } from './floatSource';
import { inPlaceBlocker, layerWeights, type WeightTarget } from './targets';
import { floatAttr, intAttr, makeNode } from './weightEdit';
import { truncatedSvd } from './truncatedSvd';
import { defaultOpset } from './opset';
import { change, errorOf, skip, type LayerSkip, type TensorChange, type TransformContext, type TransformOutcome } from './transform';

/** Largest min(rows, cols) factorized exactly (the eigen-decomposition costs its cube). */
export const MAX_FACTOR_DIM = 2048;

interface Plan {
  readonly w: WeightTarget;
  /** The type the factors are stored in: the weight's own. */
  readonly source: FloatSource;
  /** W as the rows × cols matrix being factorized. */
  readonly rows: number;
  readonly cols: number;
  /** Reads W in that layout. */
  readonly matrix: (values: Float32Array) => Float32Array;
  readonly build: (a: Float32Array, b: Float32Array, rank: number) => NodeProto[];
}

function intAttribute(node: NodeProto, name: string, fallback: number): number {
  const a = node.attribute.find((x) => x.name === name);
  return a?.i !== undefined ? Number(a.i) : fallback;
}

export async function factorizeLayers(ctx: TransformContext, step: FactorizeStep): Promise<TransformOutcome> {
  const outcome: TransformOutcome = { changed: [], skipped: [] };
  const consumers = new Map<string, number>();
  for (const n of ctx.state.index.nodes) for (const i of n.node.input) consumers.set(i, (consumers.get(i) ?? 0) + 1);
  for (const layer of ctx.layers) {
    await ctx.checkpoint();
    const plan = planFor(ctx, layer, consumers);
    if ('reason' in plan) {
      outcome.skipped.push(plan);
      continue;
    }
    const { w, rows, cols } = plan;
    const values = await readDenseFloat32(w.tensor);
    const bad = nonFiniteReason(values);
    if (bad) {
      outcome.skipped.push(skip(layer, `'${w.tensor.name}': ${bad}`));
      continue;
    }
    const matrix = plan.matrix(values);
    // The spectrum alone (no vectors: a third of the work) decides the rank and whether it pays.
    const spectrum = await singularEnergies(matrix, rows, cols, ctx.checkpoint);
    const rank = Math.max(1, Math.min(Math.min(rows, cols), step.rank ?? rankForEnergy(spectrum, step.energy ?? 1) ?? Math.min(rows, cols)));
    const paramsBefore = rows * cols;
    const paramsAfter = rank * (rows + cols);
    if (paramsAfter >= paramsBefore) {
      outcome.skipped.push(skip(layer, `rank ${rank} needs ${paramsAfter} parameters, not fewer than the ${paramsBefore} of '${w.tensor.name}'`));
      continue;
    }
    const f = await truncatedSvd(matrix, rows, cols, () => rank, ctx.checkpoint);
    const nodes = plan.build(f.a, f.b, f.rank);
    ctx.patch.forGraph(layer.node.graph.proto!).replaceNodes.set(layer.node.node, nodes);
    removeStored(ctx, w);
    let total = 0;
    for (let i = 0; i < f.energies.length; i++) total += f.energies[i];
    let kept = 0;
    for (let i = 0; i < f.rank; i++) kept += f.energies[i];
    const approx = multiply(roundedTo(plan.source, f.a), roundedTo(plan.source, f.b), rows, f.rank, cols);
    const result: TensorChange = {
      tensor: w.tensor.name,
      bytesBefore: w.tensor.bytes,
      bytesAfter: paramsAfter * floatBytes(plan.source),
      ...errorOf(matrix, approx),
      detail: { rank: f.rank, fullRank: Math.min(rows, cols), energyKept: total > 0 ? kept / total : 1, rows, cols },
    };
    outcome.changed.push(change(layer, [result]));
  }
  return outcome;
}

/** Drops the factorized weight: its initializer (and input entry) or its Constant node, and the Casts bringing it to the layer. */
function removeStored(ctx: TransformContext, w: WeightTarget): void {
  const p = ctx.patch.forGraph(w.tensor.graph.proto!);
  for (const n of w.casts ?? []) ctx.patch.forGraph(w.layer.node.graph.proto!).replaceNodes.set(n, []);
  if (w.tensor.origin === 'constant' && w.tensor.node) {
    p.replaceNodes.set(w.tensor.node.node, []);
    return;
  }
  p.removeInitializers.add(w.tensor.name);
  if (w.tensor.graph.inputs.includes(w.tensor.name)) p.removeInputs.add(w.tensor.name);
}

/** A·B, float32 (a WebAssembly product where there is one). */
function multiply(a: Float32Array, b: Float32Array, rows: number, rank: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  const kernel = kernelsEnabled() ? gemmKernel() : null;
  if (kernel) {
    kernel.gemm(1, rows, cols, rank, { data: a, stride: rank }, { data: b, stride: cols }, { data: out, stride: cols });
    return out;
  }
  for (let i = 0; i < rows; i++) {
    for (let r = 0; r < rank; r++) {
      const x = a[i * rank + r];
      if (x === 0) continue;
      for (let j = 0; j < cols; j++) out[i * cols + j] += x * b[r * cols + j];
    }
  }
  return out;
}

function planFor(ctx: TransformContext, layer: Layer, consumers: ReadonlyMap<string, number>): Plan | LayerSkip {
  const node = layer.node.node;
  const op = node.opType ?? '';
  const domain = node.domain ?? '';
  if (domain !== '' && domain !== 'ai.onnx') return skip(layer, `${domain}.${op} is not factorized`);
  if (op !== 'MatMul' && op !== 'Gemm' && op !== 'Conv') return skip(layer, `${op} is not factorized (MatMul, Gemm and Conv are)`);
  const w = layerWeights(layer).find((x) => x.operand === 1);
  if (!w) return skip(layer, `its weight input is not a stored tensor of rank 2 or more`);
  const why = inPlaceBlocker(w);
  if (why) return skip(layer, `'${w.tensor.name}': ${why}`);
  if ([w.tensor.name, ...(w.casts ?? []).map((n) => n.output[0])].some((v) => (consumers.get(v) ?? 0) > 1)) return skip(layer, `'${w.tensor.name}' is shared with other nodes`);
  const dims = w.tensor.dims;
  const names = ctx.names;
  const source = w.tensor.dataType as FloatSource;
  // Factors in the weight's type; a weight cast on its way to the layer gets its factors cast the same way.
  const factor = (name: string, factorDims: number[], values: Float32Array): string => {
    const p = ctx.patch.forGraph(layer.node.graph.proto!);
    if (w.castTo === undefined) {
      p.addInitializers.push(floatSourceTensor(name, source, factorDims, values));
      return name;
    }
    const stored = names.fresh(`${name}_${floatName(source)}`);
    p.addInitializers.push(floatSourceTensor(stored, source, factorDims, values));
    p.prependNodes.push(makeNode('Cast', [stored], [name], names.fresh(`${name}_Cast`), [intAttr('to', w.castTo)]));
    return name;
  };
  const out = node.output[0];
  const base = layer.node.label;
  const factorNames = (): [string, string, string] => [names.fresh(`${w.tensor.name}_lowrank_a`), names.fresh(`${w.tensor.name}_lowrank_b`), names.fresh(`${out}_lowrank`)];
  const tooBig = (rows: number, cols: number): LayerSkip | undefined =>
    Math.min(rows, cols) > MAX_FACTOR_DIM ? skip(layer, `its ${rows}×${cols} weight is over the ${MAX_FACTOR_DIM} limit of exact factorization`) : undefined;

  if (op === 'MatMul') {
    if (dims.length !== 2) return skip(layer, `its weight has rank ${dims.length}; only 2-D MatMul weights are factorized`);
    const [rows, cols] = dims;
    const big = tooBig(rows, cols);
    if (big) return big;
    return {
      w, source, rows, cols,
      matrix: (v) => v,
      build: (a, b, rank) => {
        const [an, bn, mid] = factorNames();
        factor(an, [rows, rank], a);
        factor(bn, [rank, cols], b);
        return [
          makeNode('MatMul', [node.input[0], an], [mid], names.fresh(`${base}_lowrank_a`)),
          makeNode('MatMul', [mid, bn], [out], node.name || names.fresh(`${base}_lowrank_b`)),
        ];
      },
    };
  }
  if (op === 'Gemm') {
    const transA = intAttribute(node, 'transA', 0);
    const transB = intAttribute(node, 'transB', 0);
    if (transA) return skip(layer, 'Gemm with transA is not factorized');
    // The effective weight is K × N whatever the storage.
    const [rows, cols] = transB ? [dims[1], dims[0]] : [dims[0], dims[1]];
    const big = tooBig(rows, cols);
    if (big) return big;
    const alpha = node.attribute.find((a) => a.name === 'alpha')?.f ?? 1;
    const beta = node.attribute.find((a) => a.name === 'beta')?.f ?? 1;
    const hasBias = node.input.length > 2 && node.input[2] !== '';
    if (!hasBias && alpha !== 1 && defaultOpset(ctx.state.proto.opsetImport) < 11) return skip(layer, 'Gemm without C and with alpha ≠ 1 below opset 11');
    return {
      w, source, rows, cols,
      matrix: (v) => (transB ? transposed(v, dims[0], dims[1]) : v),
      build: (a, b, rank) => {
        const [an, bn, mid] = factorNames();
        factor(an, [rows, rank], a);
        factor(bn, [rank, cols], b);
        const second = hasBias || alpha !== 1
          ? makeNode('Gemm', [mid, bn, ...node.input.slice(2)], [out], node.name || names.fresh(`${base}_lowrank_b`), [floatAttr('alpha', alpha), floatAttr('beta', beta)])
          : makeNode('MatMul', [mid, bn], [out], node.name || names.fresh(`${base}_lowrank_b`));
        return [makeNode('MatMul', [node.input[0], an], [mid], names.fresh(`${base}_lowrank_a`)), second];
      },
    };
  }
  // Conv
  if (intAttribute(node, 'group', 1) !== 1) return skip(layer, 'grouped and depthwise Convs are not factorized');
  const outChannels = dims[0];
  const kernel = dims.slice(1).reduce((x, y) => x * y, 1);
  const big = tooBig(outChannels, kernel);
  if (big) return big;
  return {
    w, source, rows: outChannels, cols: kernel,
    matrix: (v) => v,
    build: (a, b, rank) => {
      const [an, bn, mid] = factorNames();
      const spatial = dims.length - 2;
      factor(bn, [rank, ...dims.slice(1)], b);
      factor(an, [outChannels, rank, ...new Array<number>(spatial).fill(1)], a);
      const first = makeNode('Conv', [node.input[0], bn], [mid], names.fresh(`${base}_lowrank_a`));
      const second = makeNode('Conv', [mid, an, ...node.input.slice(2)], [out], node.name || names.fresh(`${base}_lowrank_b`), [
        intAttr('group', 1),
      ]);
      // The first Conv keeps the original geometry (kernel, strides, pads, dilations).
      return [{ ...first, attribute: node.attribute }, second];
    },
  };
}
