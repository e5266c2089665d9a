/**
 * `node dist/bench/dtypeMatrix.js [MODEL.onnx ...]`: every preset on every model of the weight-type
 * corpus (or the models named), as a table: layers changed/refused, file size against the
 * original, output SQNR against the original in onnxruntime, and the first refusal reasons.
 * The evidence behind issue 14's "changed and running, or refused with a reason".
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OrtProcess } from '../src/eval/ortProcess';
import { ortCalibrator } from '../src/eval/ortCalibrator';
import { loadCalibrationFeeds } from '../src/eval/calibrationData';
import { PRESETS, applyPreset, corpusDir, corpusFeeds, corpusModels, runFile } from '../test/helpers/dtypeCorpus';

async function main(): Promise<void> {
  const runner = new OrtProcess();
  const services = {
    calibrator: (proto: Parameters<typeof loadCalibrationFeeds>[0], settings: { data?: string; samples: number; shapes?: Record<string, number[]> }) => {
      const { feeds, description } = loadCalibrationFeeds(proto, settings.data, settings.samples, settings.shapes);
      return ortCalibrator(feeds, description, runner);
    },
  };
  const only = process.argv.slice(2).map((f) => path.basename(f));
  try {
    for (const m of corpusModels().filter((x) => only.length === 0 || only.includes(x.file))) {
      const size = fs.statSync(path.join(corpusDir, m.file)).size;
      const base = await runFile(path.join(corpusDir, m.file), corpusFeeds(m));
      console.log(`\n${m.file} (${(size / 1024).toFixed(0)} KiB; outputs ${Object.values(base.types).join(', ')})`);
      for (const [name, step] of Object.entries(PRESETS)) {
        const o = await applyPreset(m, step, base, services as never);
        const reasons = [...new Set(o.edit.result.skipped.map((s) => s.reason))].slice(0, 2).join(' | ');
        const result = o.run
          ? `changed ${o.changedLayers}, refused ${o.skippedLayers}; file ${(o.run.fileBytes / size).toFixed(3)}x; output SQNR ${o.run.sqnrDb.toFixed(1)} dB; types ${Object.values(o.run.types).join(', ')}`
          : `REFUSED all ${o.skippedLayers}`;
        console.log(`  ${name.padEnd(18)} ${result}${reasons ? `  — ${reasons.slice(0, 160)}` : ''}`);
      }
    }
  } finally {
    runner.dispose();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
