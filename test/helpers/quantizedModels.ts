/**
 * Small models with layers that are already quantized, in every stored form the analysis
 * recognizes (onnxruntime's dynamic and QLinear quantizers, MatMulNBits, our clustering), each
 * with its real weight worked out here by the ops' definitions, one element at a time.
 */
import { seededRandom } from '../../src/core/random';
import type { NodeProto, TensorProto, ValueInfoProto } from '../../src/core/onnx/proto';
import { attribute, encodeModel, floatTensor, graph, model, node, tensor, valueInfo } from './modelBuilder';

const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;
const INT32 = 6;
const UINT4 = 21;

export interface QuantizedForm {
  /** The layer node's name. */
  readonly layer: string;
  readonly label: string;
  /** Stored tensors the layer must own. */
  readonly weights: readonly string[];
  /** The weight the real values are of (the layer's main weight). */
  readonly main: string;
  /** Its real values, row-major in `dims` (MatMulNBits: [N, K]). */
  readonly real: Float32Array;
  readonly dims: readonly number[];
  /** The axis the analysis takes as output channels. */
  readonly channelAxis: number;
  readonly nodes: NodeProto[];
  readonly initializers: TensorProto[];
  readonly inputs: ValueInfoProto[];
  readonly outputs: ValueInfoProto[];
}

const ints = (random: () => number, n: number, lo: number, hi: number): number[] => Array.from({ length: n }, () => lo + Math.floor(random() * (hi - lo + 1)));
const scales = (random: () => number, n: number): number[] => Array.from({ length: n }, () => Math.fround(0.002 + random() * 0.05));
const bytes = (dataType: number, values: number[]): Uint8Array => (dataType === INT8 ? new Uint8Array(Int8Array.from(values).buffer) : Uint8Array.from(values));
const intTensor = (name: string, dataType: number, dims: number[], values: number[]): TensorProto => tensor(name, dataType, dims, bytes(dataType, values));
const int32Tensor = (name: string, dims: number[], values: number[]): TensorProto => tensor(name, INT32, dims, new Uint8Array(Int32Array.from(values).buffer));
const to = (type: number) => [attribute('to', { type: 2, i: type })];
const intAttr = (name: string, i: number) => attribute(name, { type: 2, i });
const msNode = (n: NodeProto): NodeProto => ({ ...n, domain: 'com.microsoft' });

/** Channel (along `axis`) of each flat index of `dims`. */
function channelOf(flat: number, dims: readonly number[], axis: number): number {
  let inner = 1;
  for (let d = axis + 1; d < dims.length; d++) inner *= dims[d];
  return Math.floor(flat / inner) % dims[axis];
}

/** onnxruntime's dynamic quantizer on a Conv: UINT8 codes, one scale, the scale in the Mul after Cast. */
export function convInteger(seed = 1): QuantizedForm {
  const random = seededRandom(seed);
  const dims = [3, 2, 3, 3];
  const q = ints(random, 54, 0, 255);
  const [s] = scales(random, 1);
  const zp = 131;
  return {
    layer: 'ci_conv', label: 'UINT8 per-tensor', weights: ['ci_w'], main: 'ci_w', dims, channelAxis: 0,
    real: Float32Array.from(q, (v) => (v - zp) * s),
    nodes: [
      node('DynamicQuantizeLinear', ['ci_x'], ['ci_xq', 'ci_xs', 'ci_xzp'], 'ci_dql'),
      node('ConvInteger', ['ci_xq', 'ci_w', 'ci_xzp', 'ci_wzp'], ['ci_acc'], 'ci_conv'),
      node('Cast', ['ci_acc'], ['ci_accf'], 'ci_cast', to(FLOAT)),
      node('Mul', ['ci_xs', 'ci_ws'], ['ci_scale'], 'ci_scales_mul'),
      node('Mul', ['ci_accf', 'ci_scale'], ['ci_y'], 'ci_output_scale_mul'),
    ],
    initializers: [intTensor('ci_w', UINT8, dims, q), intTensor('ci_wzp', UINT8, [], [zp]), floatTensor('ci_ws', [], [s])],
    inputs: [valueInfo('ci_x', FLOAT, [1, 2, 5, 5])],
    outputs: [valueInfo('ci_y', FLOAT, [1, 3, 3, 3])],
  };
}

/** MatMulInteger with INT8 codes per output column; the scales' Mul comes first in the node list. */
export function matMulInteger(seed = 2): QuantizedForm {
  const random = seededRandom(seed);
  const dims = [4, 3];
  const q = ints(random, 12, -128, 127);
  const s = scales(random, 3);
  const zp = ints(random, 3, -5, 5);
  return {
    layer: 'mi_matmul', label: 'INT8 per-channel', weights: ['mi_w', 'mi_wzp', 'mi_ws'], main: 'mi_w', dims, channelAxis: 1,
    real: Float32Array.from(q, (v, i) => (v - zp[i % 3]) * s[i % 3]),
    nodes: [
      node('DynamicQuantizeLinear', ['mi_x'], ['mi_xq', 'mi_xs', 'mi_xzp'], 'mi_dql'),
      node('Mul', ['mi_xs', 'mi_ws'], ['mi_scale'], 'mi_scales_mul'),
      node('MatMulInteger', ['mi_xq', 'mi_w', 'mi_xzp', 'mi_wzp'], ['mi_acc'], 'mi_matmul'),
      node('Cast', ['mi_acc'], ['mi_accf'], 'mi_cast', to(FLOAT)),
      node('Mul', ['mi_accf', 'mi_scale'], ['mi_y'], 'mi_output_scale_mul'),
    ],
    initializers: [intTensor('mi_w', INT8, dims, q), intTensor('mi_wzp', INT8, [3], zp), floatTensor('mi_ws', [3], s)],
    inputs: [valueInfo('mi_x', FLOAT, [1, 4])],
    outputs: [valueInfo('mi_y', FLOAT, [1, 3])],
  };
}

/** QLinearConv with INT8 weights, a scale and zero point per output channel. */
export function qlinearConv(seed = 3): QuantizedForm {
  const random = seededRandom(seed);
  const dims = [3, 2, 3, 3];
  const q = ints(random, 54, -127, 127);
  const s = scales(random, 3);
  const real = Float32Array.from(q, (v, i) => v * s[channelOf(i, dims, 0)]);
  return {
    layer: 'qc_conv', label: 'INT8 per-channel', weights: ['qc_w', 'qc_ws', 'qc_wzp', 'qc_b'], main: 'qc_w', dims, channelAxis: 0, real,
    nodes: [node('QLinearConv', ['qc_x', 'qc_xs', 'qc_xzp', 'qc_w', 'qc_ws', 'qc_wzp', 'qc_ys', 'qc_yzp', 'qc_b'], ['qc_y'], 'qc_conv')],
    initializers: [
      floatTensor('qc_xs', [], [0.02]), intTensor('qc_xzp', UINT8, [], [128]),
      intTensor('qc_w', INT8, dims, q), floatTensor('qc_ws', [3], s), intTensor('qc_wzp', INT8, [3], [0, 0, 0]),
      floatTensor('qc_ys', [], [0.05]), intTensor('qc_yzp', UINT8, [], [128]), int32Tensor('qc_b', [3], [10, -20, 30]),
    ],
    inputs: [valueInfo('qc_x', UINT8, [1, 2, 5, 5])],
    outputs: [valueInfo('qc_y', UINT8, [1, 3, 3, 3])],
  };
}

/** QLinearMatMul with UINT8 weights, a scale and zero point per column of b. */
export function qlinearMatMul(seed = 4): QuantizedForm {
  const random = seededRandom(seed);
  const dims = [4, 3];
  const q = ints(random, 12, 0, 255);
  const s = scales(random, 3);
  const zp = [120, 128, 135];
  return {
    layer: 'qm_matmul', label: 'UINT8 per-channel', weights: ['qm_b', 'qm_bs', 'qm_bzp'], main: 'qm_b', dims, channelAxis: 1,
    real: Float32Array.from(q, (v, i) => (v - zp[i % 3]) * s[i % 3]),
    nodes: [node('QLinearMatMul', ['qm_a', 'qm_as', 'qm_azp', 'qm_b', 'qm_bs', 'qm_bzp', 'qm_ys', 'qm_yzp'], ['qm_y'], 'qm_matmul')],
    initializers: [
      floatTensor('qm_as', [], [0.02]), intTensor('qm_azp', UINT8, [], [128]),
      intTensor('qm_b', UINT8, dims, q), floatTensor('qm_bs', [3], s), intTensor('qm_bzp', UINT8, [3], zp),
      floatTensor('qm_ys', [], [0.05]), intTensor('qm_yzp', UINT8, [], [128]),
    ],
    inputs: [valueInfo('qm_a', UINT8, [1, 4])],
    outputs: [valueInfo('qm_y', UINT8, [1, 3])],
  };
}

/** com.microsoft QGemm with transB: B [N, K] INT8, a scale per output row of B. */
export function qgemm(seed = 7): QuantizedForm {
  const random = seededRandom(seed);
  const dims = [3, 4];
  const q = ints(random, 12, -127, 127);
  const s = scales(random, 3);
  return {
    layer: 'qg_gemm', label: 'INT8 per-channel', weights: ['qg_b', 'qg_bs', 'qg_bzp'], main: 'qg_b', dims, channelAxis: 0,
    real: Float32Array.from(q, (v, i) => v * s[Math.floor(i / 4)]),
    nodes: [msNode(node('QGemm', ['qg_a', 'qg_as', 'qg_azp', 'qg_b', 'qg_bs', 'qg_bzp'], ['qg_y'], 'qg_gemm', [intAttr('transB', 1)]))],
    initializers: [floatTensor('qg_as', [], [0.02]), intTensor('qg_azp', UINT8, [], [128]), intTensor('qg_b', INT8, dims, q), floatTensor('qg_bs', [3], s), intTensor('qg_bzp', INT8, [3], [0, 0, 0])],
    inputs: [valueInfo('qg_a', UINT8, [1, 4])],
    outputs: [valueInfo('qg_y', FLOAT, [1, 3])],
  };
}

/**
 * MatMulNBits, 4 bits in blocks of 16: B [N, blocks, 8] with two codes a byte, low nibble first.
 * K = 40 leaves 8 padding codes at the end of each row (set to 15: they must not count).
 */
export function matMulNBits(withZeroPoints: boolean, seed = 5): QuantizedForm {
  const random = seededRandom(seed);
  const [n, k, block] = withZeroPoints ? [3, 40, 16] : [4, 32, 16];
  const blocks = Math.ceil(k / block);
  const codes = Array.from({ length: n }, () => [...ints(random, k, 0, 15), ...new Array<number>(blocks * block - k).fill(15)]);
  const s = scales(random, n * blocks);
  const zp = withZeroPoints ? ints(random, n * blocks, 0, 15) : new Array<number>(n * blocks).fill(8);
  const b = new Uint8Array(n * blocks * (block / 2));
  codes.forEach((row, r) => row.forEach((c, i) => (b[r * blocks * (block / 2) + (i >> 1)] |= c << (4 * (i & 1)))));
  const zpRow = Math.ceil(blocks / 2);
  const zpBytes = new Uint8Array(n * zpRow);
  zp.forEach((z, i) => (zpBytes[Math.floor(i / blocks) * zpRow + ((i % blocks) >> 1)] |= z << (4 * ((i % blocks) & 1))));
  const real = new Float32Array(n * k);
  for (let r = 0; r < n; r++) for (let i = 0; i < k; i++) real[r * k + i] = (codes[r][i] - zp[r * blocks + Math.floor(i / block)]) * s[r * blocks + Math.floor(i / block)];
  const p = withZeroPoints ? 'nz' : 'nb';
  return {
    layer: `${p}_matmul`, label: 'INT4 block 16', weights: withZeroPoints ? [`${p}_B`, `${p}_scales`, `${p}_zp`] : [`${p}_B`, `${p}_scales`], main: `${p}_B`,
    dims: [n, k], channelAxis: 0, real,
    nodes: [
      msNode(
        node('MatMulNBits', [`${p}_a`, `${p}_B`, `${p}_scales`, ...(withZeroPoints ? [`${p}_zp`] : [])], [`${p}_y`], `${p}_matmul`, [
          intAttr('K', k), intAttr('N', n), intAttr('bits', 4), intAttr('block_size', block),
        ]),
      ),
    ],
    initializers: [
      tensor(`${p}_B`, UINT8, [n, blocks, block / 2], b),
      floatTensor(`${p}_scales`, withZeroPoints ? [n * blocks] : [n, blocks], s),
      ...(withZeroPoints ? [tensor(`${p}_zp`, UINT8, [n, zpRow], zpBytes)] : []),
    ],
    inputs: [valueInfo(`${p}_a`, FLOAT, [1, k])],
    outputs: [valueInfo(`${p}_y`, FLOAT, [1, n])],
  };
}

/** Our clustering's form: Gather(codebook, Cast(indices → INT32)) feeding a Conv (UINT4 indices) or a MatMul (UINT8). */
export function clustered(indexType: 'UINT4' | 'UINT8', seed = 6): QuantizedForm {
  const random = seededRandom(seed);
  const uint4 = indexType === 'UINT4';
  const clusters = uint4 ? 16 : 40;
  const dims = uint4 ? [3, 2, 3, 3] : [6, 5];
  const elements = dims.reduce((a, b) => a * b, 1);
  const codebook = Array.from({ length: clusters }, (_, i) => (i === 0 ? 0 : Math.fround((random() - 0.5) * 0.4)));
  const indices = ints(random, elements, 0, clusters - 1);
  const p = uint4 ? 'c4' : 'c8';
  const packed = new Uint8Array(Math.ceil(elements / 2));
  indices.forEach((v, i) => (packed[i >> 1] |= v << (4 * (i & 1))));
  return {
    layer: `${p}_layer`, label: `${clusters} clusters`,
    weights: uint4 ? [`${p}_idx`, `${p}_codebook`, `${p}_bias`] : [`${p}_idx`, `${p}_codebook`], main: `${p}_idx`,
    dims, channelAxis: uint4 ? 0 : 1,
    real: Float32Array.from(indices, (i) => codebook[i]),
    nodes: [
      node('Cast', [`${p}_idx`], [`${p}_idx32`], `${p}_cast`, to(INT32)),
      node('Gather', [`${p}_codebook`, `${p}_idx32`], [`${p}_w`], `${p}_gather`, [intAttr('axis', 0)]),
      uint4 ? node('Conv', [`${p}_x`, `${p}_w`, `${p}_bias`], [`${p}_y`], `${p}_layer`) : node('MatMul', [`${p}_x`, `${p}_w`], [`${p}_y`], `${p}_layer`),
    ],
    initializers: [
      floatTensor(`${p}_codebook`, [clusters], codebook),
      uint4 ? tensor(`${p}_idx`, UINT4, dims, packed) : tensor(`${p}_idx`, UINT8, dims, Uint8Array.from(indices)),
      ...(uint4 ? [floatTensor(`${p}_bias`, [3], [0.1, 0.2, 0.3])] : []),
    ],
    inputs: [valueInfo(`${p}_x`, FLOAT, uint4 ? [1, 2, 5, 5] : [1, 6])],
    outputs: [valueInfo(`${p}_y`, FLOAT, uint4 ? [1, 3, 3, 3] : [1, 5])],
  };
}

export function allForms(): QuantizedForm[] {
  return [convInteger(), matMulInteger(), qlinearConv(), qlinearMatMul(), qgemm(), matMulNBits(true), matMulNBits(false), clustered('UINT4'), clustered('UINT8')];
}

/** One model holding the forms side by side (each its own inputs and outputs). */
export function quantizedModel(forms: readonly QuantizedForm[]): Uint8Array {
  const g = graph(forms.flatMap((f) => f.nodes), forms.flatMap((f) => f.initializers), forms.flatMap((f) => f.inputs), forms.flatMap((f) => f.outputs));
  return encodeModel(model(g, 21, { opsetImport: [{ domain: '', version: 21 }, { domain: 'com.microsoft', version: 1 }] }));
}
