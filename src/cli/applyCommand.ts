/** `onnx-compress apply MODEL --recipe RECIPE.json --output OUT.onnx [--json] [--external-data MODE]` */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OnnxError } from '../core/errors';
import { openModel } from '../core/onnx/model';
import { saveModel, type SaveOptions } from '../core/onnx/writeModel';
import { parseRecipe } from '../transforms/recipe';
import { applyRecipe, stateOf, type StepResult } from '../transforms/apply';
import { humanBytes, table } from '../report/format';
import { OrtProcess } from '../eval/ortProcess';
import { ortCalibrator } from '../eval/ortCalibrator';
import { loadCalibrationFeeds } from '../eval/calibrationData';
import type { TransformServices } from '../transforms/transform';

export interface ApplyOptions {
  recipe: string;
  output: string;
  json: boolean;
  externalData?: SaveOptions['externalData'];
}

export interface ApplyReport {
  model: string;
  output: string;
  fileBytesBefore: number;
  fileBytesAfter: number;
  /** Bytes of external data written beside the output, if any. */
  dataBytesAfter: number;
  steps: StepResult[];
}

function readRecipe(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new OnnxError('io', `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, file);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new OnnxError('recipe', `is not valid JSON (${(e as Error).message})`, file);
  }
}

export async function runApply(file: string, options: ApplyOptions, out: (text: string) => void): Promise<ApplyReport> {
  const recipe = parseRecipe(readRecipe(options.recipe));
  const model = openModel(file);
  const runner = new OrtProcess();
  // Calibration data paths in a recipe are relative to the recipe file.
  const services: TransformServices = {
    calibrator: (proto, settings) => {
      const data = settings.data && path.resolve(path.dirname(options.recipe), settings.data);
      const { feeds, description } = loadCalibrationFeeds(proto, data, settings.samples, settings.shapes);
      return ortCalibrator(feeds, description, runner);
    },
  };
  let edits;
  try {
    edits = await applyRecipe(stateOf(model.proto, model.dir), recipe.steps, undefined, services);
  } finally {
    runner.dispose();
  }
  const final = edits.length ? edits[edits.length - 1].after : stateOf(model.proto, model.dir);
  const saved = await saveModel(final, options.output, { externalData: options.externalData });
  const report: ApplyReport = {
    model: path.resolve(file),
    output: saved.file,
    fileBytesBefore: model.bytes.length,
    fileBytesAfter: saved.bytes,
    dataBytesAfter: saved.dataBytes,
    steps: edits.map((e) => e.result),
  };
  out(options.json ? JSON.stringify(report, null, 2) : applyText(report, edits.map((e) => e.label)));
  return report;
}

function applyText(report: ApplyReport, labels: string[]): string {
  const lines: string[] = [];
  report.steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${labels[i]}: ${s.changed.length} layer(s) changed, ${s.skipped.length} skipped; weights ${humanBytes(s.bytesBefore)} → ${humanBytes(s.bytesAfter)}`);
    const rows = s.changed.flatMap((c) =>
      c.tensors.map((t) => [c.layer, t.tensor, humanBytes(t.bytesBefore), humanBytes(t.bytesAfter), t.sqnrDb === null || t.sqnrDb === undefined ? 'exact' : `${t.sqnrDb.toFixed(1)} dB`]),
    );
    if (rows.length) lines.push(indent(table(['layer', 'tensor', 'before', 'after', 'SQNR'], rows, new Set([2, 3, 4]))));
    for (const k of s.skipped) lines.push(`   skipped ${k.layer} (${k.opType}): ${k.reason}`);
    for (const n of s.notes) lines.push(`   ${n}`);
  });
  const data = report.dataBytesAfter ? ` + ${humanBytes(report.dataBytesAfter)} external data` : '';
  lines.push(`wrote ${report.output}: ${humanBytes(report.fileBytesAfter)}${data} (was ${humanBytes(report.fileBytesBefore)})`);
  return lines.join('\n');
}

function indent(text: string): string {
  return text.split('\n').map((l) => `   ${l}`).join('\n');
}
