/**
 * The models the editor benchmark opens in VS Code: one of 88 MB in 22 MatMul layers of 1024×1024
 * (the size the editor issue names) and one of 10,000 small MatMul layers (the table's worst
 * case). Weights are deterministic bell-shaped noise, so the analysis does its full work.
 * Run: node dist/bench/editorModels.js OUT_DIR — prints the two paths as JSON.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeModel, graph, model, node, tensor, valueInfo } from '../test/helpers/modelBuilder';
import { ranAlone } from './ranAlone';

/** Deterministic noise: the sum of four uniforms is close enough to a bell for the histograms. */
function noise(n: number, seed: number): Uint8Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  const next = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
  for (let i = 0; i < n; i++) out[i] = (next() + next() + next() + next() - 2) * 0.05;
  return new Uint8Array(out.buffer);
}

/** A chain x → MatMul(w0) → … → MatMul(w[layers-1]) → y with square `width` weights. */
function matMulChain(layers: number, width: number): Uint8Array {
  const nodes = [];
  const weights = [];
  for (let i = 0; i < layers; i++) {
    weights.push(tensor(`w${i}`, 1, [width, width], noise(width * width, i + 1)));
    nodes.push(node('MatMul', [i === 0 ? 'x' : `h${i - 1}`, `w${i}`], [i === layers - 1 ? 'y' : `h${i}`], `layer${i}`));
  }
  return encodeModel(model(graph(nodes, weights, [valueInfo('x', 1, [1, width])], [valueInfo('y', 1, [1, width])]), 13, { producerName: 'onnx-compress editor bench' }));
}

export function writeEditorModels(dir: string): { big: string; many: string } {
  fs.mkdirSync(dir, { recursive: true });
  const big = path.join(dir, 'big-88MB.onnx');
  const many = path.join(dir, 'many-10000-layers.onnx');
  fs.writeFileSync(big, matMulChain(22, 1024));
  fs.writeFileSync(many, matMulChain(10_000, 32));
  return { big, many };
}

if (ranAlone('editorModels')) console.log(JSON.stringify(writeEditorModels(process.argv[2])));
