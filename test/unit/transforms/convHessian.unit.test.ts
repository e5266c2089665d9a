/**
 * The im2col rows GPTQ's Conv Hessians are built from, checked against onnxruntime's own Conv:
 * the rows times the weight (as [kh·kw·C/g, M/g] per group, (y, x, c) order) give the Conv's
 * output, for explicit asymmetric pads, each auto_pad, strides, dilations and groups.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { convExtent, patchRows, type AutoPad, type ConvGeometry } from '../../../src/transforms/convHessian';
import { attribute, encodeModel, graph, model, node, tensor, valueInfo } from '../../helpers/modelBuilder';
import { fixedFloats, ort, runModel } from '../../helpers/ort';
import { tempDir } from '../../helpers/paths';

const CASES: { name: string; c: number; m: number; h: number; w: number; g: ConvGeometry }[] = [
  { name: 'asymmetric pads, stride 2×1, dilation 1×2, 2 groups', c: 4, m: 6, h: 9, w: 8, g: { group: 2, kernel: [3, 3], strides: [2, 1], dilations: [1, 2], pads: [1, 0, 2, 1], autoPad: 'NOTSET' } },
  { name: 'SAME_UPPER, stride 2, odd padding', c: 3, m: 4, h: 6, w: 7, g: { group: 1, kernel: [3, 2], strides: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0], autoPad: 'SAME_UPPER' } },
  { name: 'SAME_LOWER, stride 2, odd padding', c: 3, m: 4, h: 6, w: 7, g: { group: 1, kernel: [3, 2], strides: [2, 2], dilations: [1, 1], pads: [0, 0, 0, 0], autoPad: 'SAME_LOWER' } },
  { name: 'VALID, depthwise', c: 5, m: 5, h: 6, w: 5, g: { group: 5, kernel: [3, 3], strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0], autoPad: 'VALID' } },
];

const ints = (name: string, values: readonly number[]) => attribute(name, { type: 7, ints: [...values] });
const text = (name: string, value: AutoPad) => attribute(name, { type: 3, s: new TextEncoder().encode(value) });

for (const c of CASES) {
  test(`im2col rows times the weight are onnxruntime's Conv: ${c.name}`, async () => {
    const { g } = c;
    const [kh, kw] = g.kernel;
    const cg = c.c / g.group;
    const mg = c.m / g.group;
    const n = 2;
    const w = fixedFloats(c.m * cg * kh * kw, 3);
    const x = fixedFloats(n * c.c * c.h * c.w, 5);
    const attrs = [ints('kernel_shape', g.kernel), ints('strides', g.strides), ints('dilations', g.dilations), attribute('group', { type: 2, i: g.group })];
    attrs.push(g.autoPad === 'NOTSET' ? ints('pads', g.pads) : text('auto_pad', g.autoPad));
    const file = path.join(tempDir(), 'conv.onnx');
    fs.writeFileSync(file, encodeModel(model(graph(
      [node('Conv', ['x', 'w'], ['y'], 'conv', attrs)], [tensor('w', 1, [c.m, cg, kh, kw], new Uint8Array(w.buffer.slice(0)))],
      [valueInfo('x', 1, [n, c.c, c.h, c.w])], [valueInfo('y', 1, [])],
    ), 17)));
    const y = (await runModel(file, { x: new ort.Tensor('float32', x, [n, c.c, c.h, c.w]) })).y;
    const { oh, ow } = convExtent(g, c.h, c.w);
    assert.equal(y.length, n * c.m * oh * ow, 'output size');
    const k = kh * kw * cg;
    const rows = n * oh * ow;
    const patches = new Float32Array(rows * k);
    for (let group = 0; group < g.group; group++) {
      patchRows(x, [n, c.c, c.h, c.w], g, group, 0, rows, patches);
      for (let r = 0; r < rows; r++) {
        const [b, p] = [Math.floor(r / (oh * ow)), r % (oh * ow)];
        for (let j = 0; j < mg; j++) {
          const out = group * mg + j;
          let sum = 0;
          for (let ky = 0; ky < kh; ky++) {
            for (let kx = 0; kx < kw; kx++) {
              for (let ch = 0; ch < cg; ch++) sum += patches[r * k + (ky * kw + kx) * cg + ch] * w[((out * cg + ch) * kh + ky) * kw + kx];
            }
          }
          const expected = y[(b * c.m + out) * oh * ow + p];
          assert.ok(Math.abs(sum - expected) < 1e-5, `row ${r}, output ${out}: ${sum} vs onnxruntime's ${expected}`);
        }
      }
    }
  });
}
