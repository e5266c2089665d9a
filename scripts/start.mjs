// `npm start`: the whole job on the sample model (PaddleOCR's text-direction classifier):
// analyze it, compress it with the default recipe, check the result against the original in
// onnxruntime, and write everything, verdict first, to out/report.md (src/cli/startJob.ts).
import { createRequire } from 'node:module';

const { runStartJob } = createRequire(import.meta.url)('../dist/start.js');

await runStartJob({
  model: '.cache/models/ch_ppocr_mobile_v2.0_cls_infer.onnx',
  recipe: 'recipes/default.json',
  output: 'out/ch_ppocr_mobile_v2.0_cls.int8.onnx',
  report: 'out/report.md',
  // No labelled data ships with the model: synthetic inputs measure fidelity to the original, not accuracy.
  samples: 64,
  shapes: { x: [1, 3, 48, 192] },
});
