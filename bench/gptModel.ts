/**
 * A generated GPT-style language model with its weights in external data, for the GB-scale
 * benchmark (bench/bigModelBench.ts). The same op shape as our GPT fixture (test/fixtures/gpt):
 * `input_ids` int64 [batch, seq] → `logits` float [batch, seq, vocab]; token and position
 * embeddings (Gather), pre-LN blocks with causal attention as MatMul/Softmax, an Erf GELU MLP,
 * and an untied output head. Weights are seeded random (std 0.02): the model computes nothing
 * useful, but every transform and the evaluation do their full work on it.
 *
 *   node dist/bench/gptModel.js OUT_DIR [layers=24] [dModel=1024] [vocab=4096]
 *
 * 24 layers of d_model 1024 with a 4096-token vocabulary: 310M parameters, 1.24 GB; 48 layers:
 * 612M parameters, 2.45 GB (over the 2 GiB protobuf limit, so external data is a must).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { attribute, encodeModel, graph, model, node, tensor } from '../test/helpers/modelBuilder';
import type { NodeProto, TensorProto, ValueInfoProto } from '../src/core/onnx/proto';

export interface GptShape {
  readonly layers: number;
  readonly dModel: number;
  readonly vocab: number;
  readonly heads: number;
  readonly maxSeq: number;
}

const FLOAT = 1;
const INT64 = 7;
/** Side-file offsets aligned to pages, as onnxruntime's own saver does (lets it map them). */
const ALIGN = 4096;

function int64s(name: string, values: number[], dims = [values.length]): TensorProto {
  return tensor(name, INT64, dims, new Uint8Array(BigInt64Array.from(values, BigInt).buffer));
}

function floats(name: string, dims: number[], fill: (i: number) => number): TensorProto {
  const n = dims.reduce((a, b) => a * b, 1);
  return tensor(name, FLOAT, dims, new Uint8Array(Float32Array.from({ length: n }, (_, i) => fill(i)).buffer));
}

function symbolicInput(name: string, elemType: number, dims: (number | string)[]): ValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
    metadataProps: [],
  };
}

/** Writes seeded random FLOAT32 weights (sum of two uniforms, std 0.02) in chunks: memory stays small. */
class WeightFile {
  private offset = 0;
  private state: number;
  private readonly chunk = new Float32Array(1 << 20);

  constructor(private readonly fd: number, readonly location: string, seed: number) {
    this.state = seed >>> 0;
  }

  /** A weight of `dims` stored in the side file. */
  add(name: string, dims: number[]): TensorProto {
    const pad = (ALIGN - (this.offset % ALIGN)) % ALIGN;
    if (pad) this.write(new Uint8Array(pad));
    const start = this.offset;
    let left = dims.reduce((a, b) => a * b, 1);
    const scale = 0.02 * Math.sqrt(6) / 2 ** 32;
    while (left > 0) {
      const n = Math.min(left, this.chunk.length);
      let s = this.state;
      for (let i = 0; i < n; i++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const a = s;
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        this.chunk[i] = (a + s - 2 ** 32) * scale;
      }
      this.state = s;
      this.write(new Uint8Array(this.chunk.buffer, 0, n * 4));
      left -= n;
    }
    return tensor(name, FLOAT, dims, undefined, {
      dataLocation: 1,
      externalData: [
        { key: 'location', value: this.location },
        { key: 'offset', value: String(start) },
        { key: 'length', value: String(this.offset - start) },
      ],
    });
  }

  private write(bytes: Uint8Array): void {
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.fd, bytes, done, bytes.length - done);
    this.offset += bytes.length;
  }
}

/** The nodes and weights of one pre-LN block; `x` is the block's input, returns its output. */
function block(i: number, x: string, shape: GptShape, weights: WeightFile, nodes: NodeProto[], inits: TensorProto[]): string {
  const d = shape.dModel;
  const p = `blocks.${i}`;
  const n = (op: string, inputs: string[], name: string, attrs = [] as ReturnType<typeof attribute>[], outputs = 1): string[] => {
    const outs = Array.from({ length: outputs }, (_, k) => `/${p}/${name}_output_${k}`);
    nodes.push(node(op, inputs, outs, `/${p}/${name}`, attrs));
    return outs;
  };
  const ln = (name: string, input: string): string => {
    inits.push(floats(`${p}.${name}.weight`, [d], () => 1), floats(`${p}.${name}.bias`, [d], () => 0));
    return n('LayerNormalization', [input, `${p}.${name}.weight`, `${p}.${name}.bias`], `${name}/LayerNormalization`, [attribute('axis', { type: 2, i: -1 }), attribute('epsilon', { type: 1, f: 1e-5 })])[0];
  };
  const linear = (name: string, input: string, inDim: number, outDim: number): string => {
    inits.push(weights.add(`${p}.${name}.weight`, [inDim, outDim]), floats(`${p}.${name}.bias`, [outDim], () => 0));
    const mm = n('MatMul', [input, `${p}.${name}.weight`], `${name}/MatMul`)[0];
    return n('Add', [`${p}.${name}.bias`, mm], `${name}/Add`)[0];
  };
  const perm = (values: number[]) => [attribute('perm', { type: 7, ints: values })];
  const qkv = linear('qkv', ln('ln1', x), d, 3 * d);
  const [q, k, v] = n('Split', [qkv, 'split_qkv'], 'Split', [attribute('axis', { type: 2, i: 2 })], 3);
  const heads = (z: string, name: string, order: number[]) => n('Transpose', [n('Reshape', [z, 'heads_shape'], `Reshape_${name}`)[0]], `Transpose_${name}`, perm(order))[0];
  const scores = n('MatMul', [heads(q, 'q', [0, 2, 1, 3]), heads(k, 'k', [0, 2, 3, 1])], 'MatMul')[0];
  const masked = n('Add', [n('Div', [scores, 'head_scale'], 'Div')[0], 'causal_mask'], 'Add_mask')[0];
  const attended = n('MatMul', [n('Softmax', [masked], 'Softmax', [attribute('axis', { type: 2, i: -1 })])[0], heads(v, 'v', [0, 2, 1, 3])], 'MatMul_1')[0];
  const merged = n('Reshape', [n('Transpose', [attended], 'Transpose_out', perm([0, 2, 1, 3]))[0], 'model_shape'], 'Reshape_out')[0];
  const x1 = n('Add', [x, linear('proj', merged, d, d)], 'Add_1')[0];
  const up = linear('up', ln('ln2', x1), d, 4 * d);
  const erf = n('Erf', [n('Div', [up, 'sqrt2'], 'Div_1')[0]], 'Erf')[0];
  const gelu = n('Mul', [n('Mul', [up, n('Add', [erf, 'one'], 'Add_2')[0]], 'Mul')[0], 'half'], 'Mul_1')[0];
  return n('Add', [x1, linear('down', gelu, 4 * d, d)], 'Add_3')[0];
}

/** Writes `model.onnx` and `model.onnx.data` into `dir`; returns the model's path. */
export function writeGptModel(dir: string, shape: GptShape, seed = 1): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'model.onnx');
  const fd = fs.openSync(path.join(dir, 'model.onnx.data'), 'w');
  const nodes: NodeProto[] = [];
  const inits: TensorProto[] = [];
  const d = shape.dModel;
  const dh = d / shape.heads;
  try {
    const weights = new WeightFile(fd, 'model.onnx.data', seed);
    inits.push(
      weights.add('tokens.weight', [shape.vocab, d]),
      weights.add('positions.weight', [shape.maxSeq, d]),
      floats('causal_mask', [shape.maxSeq, shape.maxSeq], (i) => (i % shape.maxSeq > Math.floor(i / shape.maxSeq) ? -Infinity : 0)),
      int64s('split_qkv', [d, d, d]),
      int64s('heads_shape', [0, 0, shape.heads, dh]),
      int64s('model_shape', [0, 0, d]),
      int64s('zero', [0], []), int64s('one_i', [1], []), int64s('axes_01', [0, 1]), int64s('starts_00', [0, 0]), int64s('range_1', [1]), int64s('range_2', [2]),
      floats('head_scale', [], () => Math.sqrt(dh)), floats('sqrt2', [], () => Math.SQRT2), floats('one', [], () => 1), floats('half', [], () => 0.5),
    );
    nodes.push(
      node('Gather', ['tokens.weight', 'input_ids'], ['/tokens/Gather_output_0'], '/tokens/Gather'),
      node('Shape', ['input_ids'], ['/Shape_output_0'], '/Shape'),
      node('Slice', ['/Shape_output_0', 'range_1', 'range_2'], ['/seq_1d'], '/Slice_seq'),
      node('Squeeze', ['/seq_1d'], ['/seq'], '/Squeeze_seq'),
      node('Range', ['zero', '/seq', 'one_i'], ['/Range_output_0'], '/Range'),
      node('Gather', ['positions.weight', '/Range_output_0'], ['/positions/Gather_output_0'], '/positions/Gather'),
      node('Add', ['/tokens/Gather_output_0', '/positions/Gather_output_0'], ['/Add_output_0'], '/Add'),
      node('Concat', ['/seq_1d', '/seq_1d'], ['/mask_ends'], '/Concat_mask', [attribute('axis', { type: 2, i: 0 })]),
      node('Slice', ['causal_mask', 'starts_00', '/mask_ends', 'axes_01'], ['causal_mask_t'], '/Slice_mask'),
    );
    // Blocks add the sliced mask, not the full one.
    let x = '/Add_output_0';
    const start = nodes.length;
    for (let i = 0; i < shape.layers; i++) x = block(i, x, shape, weights, nodes, inits);
    for (let i = start; i < nodes.length; i++) nodes[i] = { ...nodes[i], input: nodes[i].input.map((s) => (s === 'causal_mask' ? 'causal_mask_t' : s)) };
    inits.push(floats('ln.weight', [d], () => 1), floats('ln.bias', [d], () => 0), weights.add('head.weight', [d, shape.vocab]));
    nodes.push(
      node('LayerNormalization', [x, 'ln.weight', 'ln.bias'], ['/ln/LayerNormalization_output_0'], '/ln/LayerNormalization', [attribute('axis', { type: 2, i: -1 }), attribute('epsilon', { type: 1, f: 1e-5 })]),
      node('MatMul', ['/ln/LayerNormalization_output_0', 'head.weight'], ['logits'], '/head/MatMul'),
    );
  } finally {
    fs.closeSync(fd);
  }
  const g = graph(nodes, inits, [symbolicInput('input_ids', INT64, ['batch', 'seq'])], [symbolicInput('logits', FLOAT, ['batch', 'seq', shape.vocab])]);
  fs.writeFileSync(file, encodeModel(model(g, 17, { producerName: 'onnx-compress big-model bench' })));
  return file;
}

/** A folder holding `input_ids.npy` [count, seq] of seeded random token ids (an evaluation or calibration set). */
export function writeTokenWindows(dir: string, count: number, seq: number, vocab: number, seed = 7): string {
  fs.mkdirSync(dir, { recursive: true });
  let header = `{'descr': '<i8', 'fortran_order': False, 'shape': (${count}, ${seq}), }`;
  header = header.padEnd(Math.ceil((header.length + 11) / 64) * 64 - 11, ' ') + '\n';
  const ids = new BigInt64Array(count * seq);
  let s = seed >>> 0;
  for (let i = 0; i < ids.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    ids[i] = BigInt(s % vocab);
  }
  const head = new Uint8Array([0x93, ...Buffer.from('NUMPY'), 1, 0, header.length & 0xff, header.length >> 8, ...Buffer.from(header)]);
  fs.writeFileSync(path.join(dir, 'input_ids.npy'), Buffer.concat([head, new Uint8Array(ids.buffer)]));
  return dir;
}

// Bundled into other benchmarks too: run only as this file's own entry point.
if (require.main === module && path.basename(__filename) === 'gptModel.js') {
  const [dir, layers = '24', dModel = '1024', vocab = '4096'] = process.argv.slice(2);
  const t0 = Date.now();
  const file = writeGptModel(dir, { layers: Number(layers), dModel: Number(dModel), vocab: Number(vocab), heads: 16, maxSeq: 128 });
  console.log(`${file}: ${((fs.statSync(file + '.data').size) / 1e9).toFixed(2)} GB of weights in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
