/**
 * `npm run bench`: how fast and lean opening a model is, as ratios against reading the same
 * file with fs.readFileSync, measured in the same run on the same machine.
 * Goals (issue 2): index time <= 1.2x the plain read; peak RSS <= file size + 100 MB.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { saveModel } from '../src/core/onnx/writeModel';
import type { ModelProto, NodeProto, TensorProto } from '../src/core/onnx/proto';
import { benchKMeans, benchStats } from './analysisBench';
import { benchOpen } from './openBench';
import { benchLatency, benchTransforms } from './transformBench';
import { benchEval } from './evalBench';
import { benchFp16Ocr } from './fp16Ocr';
import { benchAnalysisVsNumpy, defaultAnalysisModels } from './analysisVsNumpy';

const MB = 1024 * 1024;

function measure(mode: 'read' | 'index', file: string, runs: number): { firstMs: number; medianMs: number; maxRssBytes: number } {
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'indexOne.js'), mode, file, String(runs)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout);
}

/** A transformer-shaped synthetic model: `layers` blocks of MatMul weights, ~`totalMb` MB. */
async function syntheticModel(file: string, totalMb: number, tensors: number): Promise<void> {
  const elements = Math.floor((totalMb * MB) / 4 / tensors);
  const shared = new Uint8Array(elements * 4).fill(1);
  const initializer: TensorProto[] = [];
  const node: NodeProto[] = [];
  for (let i = 0; i < tensors; i++) {
    initializer.push({
      name: `w${i}`, dims: [elements], dataType: 1, rawData: shared,
      floatData: [], int32Data: [], stringData: [], int64Data: [], doubleData: [], uint64Data: [], externalData: [], metadataProps: [],
    });
    node.push({ input: [i === 0 ? 'x' : `h${i - 1}`, `w${i}`], output: [`h${i}`], name: `add${i}`, opType: 'Add', attribute: [], metadataProps: [], deviceConfigurations: [] });
  }
  const proto: ModelProto = {
    irVersion: 8, opsetImport: [{ domain: '', version: 13 }], metadataProps: [], trainingInfo: [], functions: [], configuration: [],
    graph: { name: 'synthetic', node, initializer, input: [], output: [], valueInfo: [], quantizationAnnotation: [], sparseInitializer: [], metadataProps: [] },
  };
  await saveModel({ proto }, file);
}

async function main(): Promise<void> {
  const models = path.resolve('.cache/models');
  // The fetched third-party models (not anything else that may sit in the cache folder).
  const listed = JSON.parse(fs.readFileSync('test/fixtures/third-party.json', 'utf8')) as { packages: { files: Record<string, string> }[] };
  const real = listed.packages.flatMap((p) => Object.keys(p.files)).map((f) => path.join(models, path.basename(f))).filter((f) => f.endsWith('.onnx'));
  real.sort((a, b) => fs.statSync(b).size - fs.statSync(a).size);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'onnx-compress-bench-'));
  const synthetic = path.join(tmp, 'synthetic-1GB.onnx');
  await syntheticModel(synthetic, 1000, 4000);

  const rows: string[] = [];
  const header = 'model                               size MB   read ms  index ms  index/read  cold index/read  peak RSS MB  RSS - size MB';
  for (const [file, runs] of [[real[0], 60], [real[1], 60], [synthetic, 3]] as const) {
    const size = fs.statSync(file).size;
    const read = measure('read', file, runs);
    const index = measure('index', file, runs);
    const peak = measure('index', file, 0).maxRssBytes;
    rows.push(
      [
        path.basename(file).padEnd(34),
        (size / MB).toFixed(1).padStart(8),
        read.medianMs.toFixed(2).padStart(9),
        index.medianMs.toFixed(2).padStart(9),
        `${(index.medianMs / read.medianMs).toFixed(2)}x`.padStart(11),
        `${(index.firstMs / read.firstMs).toFixed(2)}x`.padStart(16),
        (peak / MB).toFixed(0).padStart(12),
        ((peak - size) / MB).toFixed(0).padStart(14),
      ].join(' '),
    );
  }
  // The editor's first paint needs the model opened and summarized: 88 MB should take well under a second.
  const editorSized = path.join(tmp, 'synthetic-88MB.onnx');
  await syntheticModel(editorSized, 88, 352);
  console.log('');
  for (const file of [...real, editorSized]) benchOpen(file);
  console.log('');
  fs.rmSync(tmp, { recursive: true, force: true });
  console.log(header);
  for (const r of rows) console.log(r);
  console.log('\nread = fs.readFileSync of the file; index = openModel (read + sniff + decode + index, tensors as views).');
  console.log('Times: medians over repeated runs in a fresh process after one cold run; "cold" compares the first runs.');
  console.log('Peak RSS: a fresh process that opens the model once.');

  console.log('');
  await benchStats(real[0]);
  console.log('');
  await benchKMeans();
  console.log('');
  benchAnalysisVsNumpy(defaultAnalysisModels());
  console.log('');
  await benchTransforms(real[0]);
  console.log('');
  await benchLatency([
    { file: path.join(models, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), h: 48, w: 192 },
    { file: path.join(models, 'ch_PP-OCRv4_rec_infer.onnx'), h: 48, w: 320 },
    { file: path.join(models, 'ch_PP-OCRv4_det_infer.onnx'), h: 640, w: 640 },
  ]);
  console.log('');
  await benchFp16Ocr();
  console.log('');
  await benchEval(path.join(models, 'ch_PP-OCRv4_rec_infer.onnx'), 48, 320);
  console.log('');
  await benchEval(path.join(models, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'), 48, 192, 512, 32);
}

void main();
