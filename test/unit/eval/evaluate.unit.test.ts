/**
 * The evaluation job against figures numpy computed for a classifier with known weights
 * (make_classifier_fixture.py); image folders through sharp; synthetic inputs labelled as such;
 * bad data refused before inference; the job survives its process being killed, cancelled or
 * timed out, and the next job runs.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import sharp from 'sharp';
import { OrtProcess } from '../../../src/eval/ortProcess';
import { toTensor, DEFAULT_PREPROCESS, type DatasetSpec, type ImagePreprocess } from '../../../src/eval/dataset';
import { Comparison, mcnemarExact } from '../../../src/eval/metrics';
import { readJson, repoRoot, tempDir } from '../../helpers/paths';
import { writeNpy } from '../../helpers/npyWrite';
import { encodeModel, graph, model, node, valueInfo } from '../../helpers/modelBuilder';

const fixtures = path.join(repoRoot, 'test/fixtures');
const expected = readJson<{
  samples: number;
  baseline: { accuracy: number; top5: number };
  candidate: { accuracy: number; top5: number };
  agreement: number;
  outputs: { name: string; maxAbsError: number; meanAbsError: number; sqnrDb: number; cosine: number; klDivergence: number }[];
  discordant: [number, number];
}>(path.join(fixtures, 'classifier_expected.json'));

const runner = new OrtProcess();
test.after(() => runner.dispose());

const evaluate = (dataset: DatasetSpec, extra: { baseline?: string; limit?: number; batchSize?: number } = {}) =>
  runner.run({
    kind: 'evaluate',
    candidate: path.join(fixtures, 'classifier_candidate.onnx'),
    baseline: 'baseline' in extra ? extra.baseline : path.join(fixtures, 'classifier.onnx'),
    dataset,
    limit: extra.limit,
    batchSize: extra.batchSize ?? 8,
    threads: 1,
    optimization: 'all',
  });

const close = (a: number, b: number, tolerance: number, what: string) => assert.ok(Math.abs(a - b) <= tolerance, `${what}: ${a} vs ${b}`);

for (const [form, spec] of [
  ['.npz', { kind: 'numpy', path: path.join(fixtures, 'classifier_data.npz') }],
  ['folder of .npy', { kind: 'numpy', path: path.join(fixtures, 'classifier_data') }],
] as const) {
  test(`labelled ${form}: accuracy, top-5, agreement and output errors equal numpy's`, async () => {
    const { result: r } = await evaluate(spec, { batchSize: 7 });
    assert.equal(r.samples, expected.samples);
    assert.equal(r.batchSize, 7);
    close(r.baseline!.accuracy!, expected.baseline.accuracy, 1e-12, 'baseline accuracy');
    close(r.baseline!.top5!, expected.baseline.top5, 1e-12, 'baseline top-5');
    close(r.candidate.accuracy!, expected.candidate.accuracy, 1e-12, 'candidate accuracy');
    close(r.candidate.top5!, expected.candidate.top5, 1e-12, 'candidate top-5');
    close(r.agreement!, expected.agreement, 1e-12, 'agreement');
    assert.deepEqual(r.accuracyDelta!.discordant, expected.discordant);
    close(r.accuracyDelta!.value, expected.candidate.accuracy - expected.baseline.accuracy, 1e-12, 'delta');
    assert.ok(r.accuracyDelta!.ci95[0] < r.accuracyDelta!.value && r.accuracyDelta!.value < r.accuracyDelta!.ci95[1]);
    assert.ok(r.accuracyDelta!.ci95[1] < 0, 'a 22-point loss is not noise');
    const o = r.outputs![0];
    const e = expected.outputs[0];
    assert.equal(o.name, e.name);
    close(o.maxAbsError, e.maxAbsError, 1e-6, 'max error');
    close(o.meanAbsError, e.meanAbsError, 1e-6, 'mean error');
    close(o.sqnrDb!, e.sqnrDb, 1e-4, 'SQNR');
    close(o.cosine, e.cosine, 1e-6, 'cosine');
    close(o.klDivergence, e.klDivergence, 1e-5, 'KL');
    assert.ok(r.candidate.latencyMs.median > 0 && r.candidate.latencyMs.p90 >= r.candidate.latencyMs.median);
  });
}

test('McNemar exact test: known values', () => {
  close(mcnemarExact(0, 0), 1, 0, 'no discordant pairs');
  close(mcnemarExact(1, 9), 0.021484375, 1e-12, '1 vs 9'); // 2 * (1 + 10) / 1024
  close(mcnemarExact(5, 5), 1, 1e-12, 'balanced');
});

test('top-5 accuracy is given only for more than 5 classes (of 5 or fewer every sample is in it)', () => {
  const scored = (classes: number): ReturnType<Comparison['result']> => {
    const c = new Comparison();
    const batch = [{ name: 'scores', data: Float32Array.from({ length: 2 * classes }, (_, i) => i % classes), samples: 2, classes }];
    c.add(batch, batch, [0, 1]);
    return c.result();
  };
  const two = scored(2);
  assert.equal(two.candidateAccuracy, 0.5, 'the higher score is class 1');
  assert.equal('candidateTop5' in two || 'baselineTop5' in two, false, JSON.stringify(two));
  assert.equal(scored(10).candidateTop5, 0, 'labels 0 and 1 are the two lowest of ten scores');
});

test('without a baseline only the candidate is scored; without data the figures are labelled synthetic', async () => {
  const alone = await evaluate({ kind: 'numpy', path: path.join(fixtures, 'classifier_data.npz') }, { baseline: undefined, limit: 50 });
  assert.equal(alone.result.baseline, undefined);
  assert.equal(alone.result.agreement, undefined);
  assert.equal(alone.result.samples, 50);
  const synthetic = await evaluate({ kind: 'synthetic', samples: 20, seed: 3 });
  assert.equal(synthetic.result.synthetic, true);
  assert.match(synthetic.result.description, /fidelity on synthetic inputs, not accuracy/);
  assert.equal(synthetic.result.candidate.accuracy, undefined);
  assert.ok(synthetic.result.agreement! < 1);
});

test('bad data is refused before inference, naming the input and the expected shape', async () => {
  const dir = tempDir();
  writeNpy(path.join(dir, 'x.npy'), new Float32Array(5 * 15), [5, 15]);
  await assert.rejects(evaluate({ kind: 'numpy', path: dir }), /samples of shape \[15\]; input 'x' expects \[batch, 16\]/);
  writeNpy(path.join(dir, 'x.npy'), new Float32Array(5 * 16), [5, 16]);
  writeNpy(path.join(dir, 'labels.npy'), new Float32Array(3), [3]);
  await assert.rejects(evaluate({ kind: 'numpy', path: dir }), /labels must be a 1-D array of integer class ids/);
  fs.rmSync(path.join(dir, 'x.npy'));
  await assert.rejects(evaluate({ kind: 'numpy', path: dir }), /has no x\.npy for input 'x'/);
});

test('a killed, cancelled or timed-out job fails cleanly and the next job runs', async () => {
  const long = { kind: 'synthetic', samples: 1_000_000, seed: 1 } as const;
  const killed = runner.run(
    { kind: 'evaluate', candidate: path.join(fixtures, 'classifier.onnx'), dataset: long, batchSize: 1, threads: 1, optimization: 'all' },
    (done) => {
      if (done === 10 && runner.pid) process.kill(runner.pid, 'SIGKILL');
    },
  );
  await assert.rejects(killed, /the onnxruntime process ended \(SIGKILL\)/);
  const controller = new AbortController();
  const cancelled = runner.run(
    { kind: 'evaluate', candidate: path.join(fixtures, 'classifier.onnx'), dataset: long, batchSize: 1, threads: 1, optimization: 'all' },
    (done) => done === 10 && controller.abort(),
    controller.signal,
  );
  await assert.rejects(cancelled);
  const timedOut = runner.run({ kind: 'evaluate', candidate: path.join(fixtures, 'classifier.onnx'), dataset: long, batchSize: 1, threads: 1, optimization: 'all' }, undefined, undefined, 300);
  await assert.rejects(timedOut, /took longer than 0\.3 s/);
  const after = await evaluate({ kind: 'numpy', path: path.join(fixtures, 'classifier_data.npz') }, { limit: 10 });
  assert.equal(after.result.samples, 10);
});

/** A FLOAT value with a symbolic batch dim first. */
function batched(name: string, dims: number[]) {
  const v = valueInfo(name, 1, dims);
  return { ...v, type: { tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'batch' }, ...v.type!.tensorType!.shape!.dim] } } } };
}

test('image folders: decoded, resized, center-cropped and normalized as asked; classes from folder names', async () => {
  const dir = tempDir();
  const colours: Record<string, [number, number, number]> = { '0_red': [255, 0, 0], '1_green': [0, 255, 0] };
  for (const [cls, [r, g, b]] of Object.entries(colours)) {
    fs.mkdirSync(path.join(dir, cls));
    for (let i = 0; i < 3; i++) {
      await sharp({ create: { width: 20 + i * 7, height: 12, channels: 3, background: { r, g, b } } }).png().toFile(path.join(dir, cls, `${i}.png`));
    }
  }
  // Mean colour per channel: the class is the brightest channel (red → 0, green → 1).
  const modelFile = path.join(dir, 'mean.onnx');
  fs.writeFileSync(
    modelFile,
    encodeModel(model(graph([node('GlobalAveragePool', ['x'], ['p']), node('Flatten', ['p'], ['y'])], [], [batched('x', [3, 8, 8])], [batched('y', [3])]), 13)),
  );
  const run = (preprocess: ImagePreprocess = { ...DEFAULT_PREPROCESS, resize: 10, crop: [8, 8] as [number, number], mean: [0, 0, 0] as [number, number, number], std: [1, 1, 1] as [number, number, number] }) =>
    runner.run({ kind: 'evaluate', candidate: modelFile, dataset: { kind: 'images', root: dir, preprocess }, batchSize: 4, threads: 1, optimization: 'all' });
  const rgb = await run();
  assert.equal(rgb.result.samples, 6);
  assert.equal(rgb.result.candidate.accuracy, 1);
  assert.match(rgb.result.description, /6 images in 2 classes/);
  // Read as BGR, red looks blue (class 2): half right.
  const bgr = await run({ ...DEFAULT_PREPROCESS, resize: 10, crop: [8, 8], mean: [0, 0, 0], std: [1, 1, 1], channels: 'bgr' });
  assert.equal(bgr.result.candidate.accuracy, 0.5);
  const tooSmall = run({ ...DEFAULT_PREPROCESS, resize: [4, 4], crop: [8, 8], mean: [0, 0, 0], std: [1, 1, 1] });
  await assert.rejects(tooSmall, /smaller than the 8×8 crop/);
});

test('pixel normalization: (v · scale − mean) / std, channel order and layout', () => {
  const rgb = Uint8Array.from([255, 0, 51, 0, 102, 255]); // two pixels, 2×1
  const p = { ...DEFAULT_PREPROCESS, scale: 1 / 255, mean: [0.5, 0.5, 0.5] as [number, number, number], std: [0.5, 0.25, 0.5] as [number, number, number] };
  const nchw = Array.from(toTensor(rgb, 2, 1, p));
  const want = [(1 - 0.5) / 0.5, (0 - 0.5) / 0.5, (0 - 0.5) / 0.25, (0.4 - 0.5) / 0.25, (0.2 - 0.5) / 0.5, (1 - 0.5) / 0.5];
  nchw.forEach((v, i) => close(v, want[i], 1e-6, `nchw ${i}`));
  const nhwcBgr = Array.from(toTensor(rgb, 2, 1, { ...p, channels: 'bgr', layout: 'nhwc' }));
  // pixel 0 as B,G,R normalized with mean/std per position 0,1,2
  close(nhwcBgr[0], (0.2 - 0.5) / 0.5, 1e-6, 'first value is blue');
});
