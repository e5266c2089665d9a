// `npm start`: the whole job on the sample model (PaddleOCR's text-direction classifier):
// analyze it, compress it with the default recipe, check the result against the original in
// onnxruntime, and write everything to out/report.md.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

const model = '.cache/models/ch_ppocr_mobile_v2.0_cls_infer.onnx';
const compressed = 'out/ch_ppocr_mobile_v2.0_cls.int8.onnx';
const cli = (...args) => execFileSync(process.execPath, ['dist/cli.js', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });

fs.mkdirSync('out', { recursive: true });
process.stdout.write(cli('analyze', model, '--report', 'out/report.md'));
const applied = cli('apply', model, '--recipe', 'recipes/default.json', '--output', compressed);
process.stdout.write(applied);
// No labelled data ships with the model: synthetic inputs measure fidelity to the original, not accuracy.
const evaluation = cli('eval', compressed, '--baseline', model, '--samples', '64', '--shape', 'x=1x3x48x192');
process.stdout.write(evaluation);
fs.appendFileSync(
  'out/report.md',
  `\n## Compressed with recipes/default.json\n\n\`\`\`\n${applied}\`\`\`\n\n## Checked against the original in onnxruntime\n\n\`\`\`\n${evaluation}\`\`\`\n`,
);
console.log(`\nwrote out/report.md and ${compressed}`);
