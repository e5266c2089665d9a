/**
 * GPTQ on Conv weights against an independent NumPy version (make_gptq_conv_reference.py): the
 * onnxruntime child's im2col Hessians (groups, strides, dilations, asymmetric pads; the input fed
 * in two runs), gptqConv's codes, scales and zero points (per channel; blocks along the input
 * channels with C/g padded to whole blocks; depthwise with activation order), the Conv's output
 * error equal to the reference's and below round to nearest's; and the quantize transform's
 * Conv model run in onnxruntime computing the reference's reconstruction.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseNpz } from '../../../src/core/npy';
import { parseModel } from '../../../src/core/onnx/model';
import { saveModel } from '../../../src/core/onnx/writeModel';
import { applyStep, stateOf } from '../../../src/transforms/apply';
import { parseStep } from '../../../src/transforms/recipe';
import type { ConvGeometry } from '../../../src/transforms/convHessian';
import { gptqConv, type ConvShape } from '../../../src/transforms/gptqConv';
import type { QuantDType } from '../../../src/shared/stepSpec';
import type { TransformServices } from '../../../src/transforms/transform';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { ortCalibrator } from '../../../src/eval/ortCalibrator';
import type { Feed } from '../../../src/eval/feed';
import { attribute, encodeModel, graph, model, node, tensor, valueInfo } from '../../helpers/modelBuilder';
import { doubles, floats, ints, type GptqReference } from '../../helpers/gptqReference';
import { ort, runModel } from '../../helpers/ort';
import { readJson, repoRoot, tempDir } from '../../helpers/paths';

interface ConvCase {
  readonly name: string;
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly m: number;
  readonly group: number;
  readonly kernel: [number, number];
  readonly strides: [number, number];
  readonly dilations: [number, number];
  readonly pads: [number, number, number, number];
  readonly dtype: Exclude<QuantDType, 'float16'>;
  readonly symmetric: boolean;
  readonly granularity: 'per-channel' | 'block';
  readonly block?: number;
  readonly act_order: boolean;
  readonly rows: number;
  readonly outputError: number;
  readonly rtnOutputError: number;
}

const fixtures = path.join(repoRoot, 'test/fixtures');
const meta = readJson<{ cases: ConvCase[] }>(path.join(fixtures, 'gptq_conv_reference.json'));
const ref = { hessianBatches: [], cases: [], arrays: parseNpz(fs.readFileSync(path.join(fixtures, 'gptq_conv_reference.npz'))) } as unknown as GptqReference;
const runner = new OrtProcess();
test.after(() => runner.dispose());

const geometryOf = (c: ConvCase): ConvGeometry => ({ group: c.group, kernel: c.kernel, strides: c.strides, dilations: c.dilations, pads: c.pads, autoPad: 'NOTSET' });
const shapeOf = (c: ConvCase): ConvShape => ({ geometry: geometryOf(c), m: c.m, cg: c.c / c.group, kh: c.kernel[0], kw: c.kernel[1] });
const ints64 = (name: string, values: readonly number[]) => attribute(name, { type: 7, ints: [...values] });

/** x [N, C, H, W] → Conv (the case's weight, no bias) → y; `out` is the value GPTQ calibrates on. */
function convModel(dir: string, c: ConvCase): string {
  const file = path.join(dir, `${c.name}.onnx`);
  const w = floats(ref, `${c.name}__w`);
  const dims = [c.m, c.c / c.group, ...c.kernel];
  const g = graph(
    [node('Conv', ['x', 'w'], ['y'], 'conv', [ints64('kernel_shape', c.kernel), ints64('strides', c.strides), ints64('dilations', c.dilations), ints64('pads', c.pads), attribute('group', { type: 2, i: c.group })])],
    [tensor('w', 1, dims, new Uint8Array(w.buffer.slice(0)))],
    [valueInfo('x', 1, [-1, c.c, c.h, c.w])],
    [valueInfo('y', 1, [])],
  );
  fs.writeFileSync(file, encodeModel(model(g, 17)));
  return file;
}

/** The case's input as calibration feeds: the first batch item, then the rest (two runs). */
function feedsOf(c: ConvCase): Feed[] {
  const x = floats(ref, `${c.name}__x`);
  const item = c.c * c.h * c.w;
  return [
    { x: { type: 'float32', dims: [1, c.c, c.h, c.w], data: x.slice(0, item) } },
    { x: { type: 'float32', dims: [c.n - 1, c.c, c.h, c.w], data: x.slice(item) } },
  ];
}

/** The Conv's output y for weights `w`, by onnxruntime. */
async function convOutput(c: ConvCase, file: string): Promise<Float32Array> {
  const x = floats(ref, `${c.name}__x`);
  return (await runModel(file, { x: new ort.Tensor('float32', x, [c.n, c.c, c.h, c.w]) })).y;
}

const distance = (a: Float32Array, b: Float32Array): number => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0));

for (const c of meta.cases) {
  test(`${c.name}: the onnxruntime child's im2col Hessians are the reference's`, async () => {
    const key = 'x conv';
    const calibrator = ortCalibrator(feedsOf(c), 'the case', runner);
    // An Identity gives the input a name the model outputs, as GPTQ's calibration model does.
    const file = path.join(tempDir(), 'identity.onnx');
    fs.writeFileSync(file, encodeModel(model(graph([node('Identity', ['x'], ['h'], 'id')], [], [valueInfo('x', 1, [-1, c.c, c.h, c.w])], [valueInfo('h', 1, [])]), 17)));
    const { hessians, rows } = await calibrator.hessians(file, [key], { [key]: { value: 'h', geometry: geometryOf(c) } });
    const expected = doubles(ref, `${c.name}__hessians`);
    assert.equal(rows[key], c.rows);
    assert.equal(hessians[key].length, expected.length);
    const scale = Math.max(...expected.map(Math.abs));
    hessians[key].forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-12 * scale, `H[${i}] ${v} vs ${expected[i]}`));
  });

  test(`${c.name}: GPTQ's codes, scales and zero points are the reference's, and its output error is below round to nearest's`, async () => {
    const q = await gptqConv(floats(ref, `${c.name}__w`), doubles(ref, `${c.name}__hessians`), shapeOf(c), {
      dtype: c.dtype, symmetric: c.symmetric, granularity: c.granularity, blockSize: c.block, actOrder: c.act_order,
    });
    const codes = ints(ref, `${c.name}__codes`);
    const differing = q.codes.reduce((count, v, i) => count + (v === codes[i] ? 0 : 1), 0);
    assert.equal(differing, 0, `${differing} of ${codes.length} codes differ from the reference`);
    assert.deepEqual(Array.from(q.zeroPoints), Array.from(ints(ref, `${c.name}__zero_points`)));
    const scales = floats(ref, `${c.name}__scales`);
    q.scales.forEach((s, g) => assert.ok(Math.abs(s - scales[g]) <= 2 ** -23 * s, `scale ${g}: ${s} vs ${scales[g]}`));
    assert.ok(c.outputError < c.rtnOutputError, `the reference's own GPTQ error ${c.outputError} vs RTN ${c.rtnOutputError}`);
  });
}

test('quantize with method gptq on a Conv model: onnxruntime computes the reference reconstruction, closer to the float output than round to nearest', async () => {
  for (const c of meta.cases) {
    const dir = tempDir();
    const file = convModel(dir, c);
    const services: TransformServices = { calibrator: () => ortCalibrator(feedsOf(c), 'the case', runner) };
    const exact = await convOutput(c, file);
    const outputs: Record<string, Float32Array> = {};
    for (const method of ['rtn', 'gptq'] as const) {
      const m = parseModel(fs.readFileSync(file), { dir });
      const step = parseStep({ transform: 'quantize', dtype: c.dtype, symmetric: c.symmetric, granularity: c.granularity, ...(c.block ? { blockSize: c.block } : {}), method, ...(method === 'gptq' ? { calibration: { samples: 2 }, actOrder: c.act_order } : {}) });
      const edit = await applyStep(stateOf(m.proto, dir), step, undefined, services);
      assert.deepEqual(edit.result.changed.map((x) => x.layer), ['conv'], `${c.name} ${method}: ${edit.result.skipped.map((s) => s.reason).join('; ')}`);
      const detail = edit.result.changed[0].tensors[0].detail!;
      assert.equal(detail.granularity, c.granularity);
      if (method === 'gptq') assert.equal(detail.method, 'gptq');
      const out = path.join(dir, `${method}.onnx`);
      await saveModel(edit.after, out);
      outputs[method] = await convOutput(c, out);
    }
    // The reference's error is over the same rows (im2col of every output position).
    const gptq = distance(exact, outputs.gptq);
    const rtn = distance(exact, outputs.rtn);
    assert.ok(Math.abs(gptq / c.outputError - 1) < 1e-4, `${c.name}: onnxruntime's GPTQ error ${gptq} vs the reference's ${c.outputError}`);
    assert.ok(Math.abs(rtn / c.rtnOutputError - 1) < 1e-4, `${c.name}: onnxruntime's RTN error ${rtn} vs the reference's ${c.rtnOutputError}`);
    assert.ok(gptq < rtn, `${c.name}: GPTQ ${gptq} vs RTN ${rtn}`);
  }
});
