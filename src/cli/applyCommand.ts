/**
 * `onnx-compress apply MODEL --recipe RECIPE.json (--output OUT.onnx | --in-place) [--json] [--external-data MODE]`.
 * A recipe that changes no layer writes nothing: the report says why (the CLI exits 3).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OnnxError } from '../core/errors';
import { parseJsonText } from '../core/jsonText';
import { externalBytes, openModel, type OnnxModel } from '../core/onnx/model';
import { dataFilesOf } from '../core/onnx/sameFile';
import { saveModel, type SaveOptions } from '../core/onnx/writeModel';
import { parseRecipe } from '../transforms/recipe';
import { applyRecipe, stateOf, type StepResult } from '../transforms/apply';
import { changedNothing, nothingChangedLine, skipLines } from '../transforms/noOp';
import { humanBytes, plural } from '../shared/format';
import { table } from '../report/format';
import { OrtProcess } from '../eval/ortProcess';
import { ortTransformServices } from '../eval/transformServices';

export interface ApplyOptions {
  recipe: string;
  output: string;
  json: boolean;
  externalData?: SaveOptions['externalData'];
}

export interface ApplyReport {
  model: string;
  /** Null when nothing changed (nothing is written). */
  output: string | null;
  fileBytesBefore: number;
  /** Bytes of the input's external data (its side files' tensors). */
  dataBytesBefore: number;
  fileBytesAfter: number | null;
  /** Bytes of the tensors written to external data beside the output, if any (as `dataBytesBefore` and `analyze` count). */
  dataBytesAfter: number;
  /** The size of that side file: those bytes and the padding that aligns each tensor. */
  dataFileBytesAfter: number;
  /** The side file written beside the output, if any. */
  dataFileAfter?: string;
  /** Bytes the output still reads from side files that were already there (only in place: every other save copies them). */
  keptDataBytes: number;
  keptDataFiles: readonly string[];
  /** Side files the model read before that stay, and why (another model may read one). */
  leftDataFiles: readonly { file: string; reason: string }[];
  steps: StepResult[];
  /** Each step's label, as the editor's undo menu would say it. */
  labels: string[];
  /** Set when no step changed any layer: the first line of the explanation (each step's `skipped` has the rest). */
  nothingChanged?: string;
}

/** A recipe is a few steps: anything bigger than this is not one (and could not become a string). */
const MAX_RECIPE_BYTES = 16 * 1024 * 1024;

/** A recipe file's JSON (also a step file for `sensitivity --transform`). */
export function readRecipe(file: string): unknown {
  let text: string;
  try {
    const size = fs.statSync(file).size;
    if (size > MAX_RECIPE_BYTES) throw new OnnxError('recipe', `is ${humanBytes(size)}; a recipe file is at most ${humanBytes(MAX_RECIPE_BYTES)}`, file);
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof OnnxError) throw e;
    throw new OnnxError('io', `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, file);
  }
  return parseJsonText(text, file);
}

export async function runApply(
  /** The model, or its file. */
  input: string | OnnxModel,
  options: ApplyOptions,
  out: (text: string) => void,
  err: (text: string) => void = out,
  progress?: (line: string) => void,
): Promise<ApplyReport> {
  const recipe = parseRecipe(readRecipe(options.recipe));
  const model = typeof input === 'string' ? openModel(input) : input;
  const file = typeof input === 'string' ? input : model.file;
  if (file === undefined) throw new Error('runApply needs a model opened from a file');
  const runner = new OrtProcess();
  // Calibration data paths in a recipe are relative to the recipe file.
  const services = ortTransformServices(runner, () => ({ relativeTo: path.dirname(options.recipe) }));
  let edits;
  try {
    edits = await applyRecipe(stateOf(model.proto, model.dir), recipe.steps, undefined, services, (i, step) =>
      progress?.(`step ${i + 1} of ${recipe.steps.length}: ${step.transform}…`),
    );
  } finally {
    runner.dispose();
  }
  const labels = edits.map((e) => e.label);
  const results = edits.map((e) => e.result);
  if (changedNothing(results)) {
    // Writing would only copy the input: say why each layer was left alone instead.
    const report: ApplyReport = {
      model: path.resolve(file),
      output: null,
      fileBytesBefore: model.bytes.length,
      dataBytesBefore: externalBytes(model.index),
      fileBytesAfter: null,
      dataBytesAfter: 0,
      dataFileBytesAfter: 0,
      keptDataBytes: 0,
      keptDataFiles: [],
      leftDataFiles: [],
      steps: results,
      labels,
      nothingChanged: nothingChangedLine(results, labels),
    };
    if (options.json) out(JSON.stringify(report, null, 2));
    else err(nothingChangedText(report, labels));
    return report;
  }
  const final = edits[edits.length - 1].after;
  progress?.(`writing ${options.output}…`);
  // No undo reads the replaced tensors after a command: an in-place save frees their disk.
  const saved = await saveModel({ ...final, file: model.file }, options.output, {
    externalData: options.externalData,
    compact: { previousDataFiles: dataFilesOf(model.proto, model.dir) },
  });
  const report: ApplyReport = {
    model: path.resolve(file),
    output: saved.file,
    fileBytesBefore: model.bytes.length,
    dataBytesBefore: externalBytes(model.index),
    fileBytesAfter: saved.bytes,
    dataBytesAfter: saved.dataTensorBytes,
    dataFileBytesAfter: saved.dataBytes,
    ...(saved.dataFile ? { dataFileAfter: saved.dataFile } : {}),
    keptDataBytes: saved.keptDataBytes,
    keptDataFiles: saved.keptDataFiles,
    leftDataFiles: saved.leftDataFiles,
    steps: results,
    labels,
  };
  out(options.json ? JSON.stringify(report, null, 2) : applyText(report, labels));
  return report;
}

function nothingChangedText(report: ApplyReport, labels: string[]): string {
  const lines = [report.nothingChanged!];
  report.steps.forEach((s, i) => {
    if (report.steps.length > 1) lines.push(`${i + 1}. ${labels[i]}:`);
    for (const l of skipLines(s.skipped)) lines.push(`   skipped ${l}`);
  });
  lines.push('nothing written');
  return lines.join('\n');
}

function applyText(report: ApplyReport, labels: string[]): string {
  const lines: string[] = [];
  report.steps.forEach((s, i) => {
    lines.push(`${i + 1}. ${labels[i]}: ${plural(s.changed.length, 'layer')} changed, ${s.skipped.length} skipped; weights ${humanBytes(s.bytesBefore)} → ${humanBytes(s.bytesAfter)}`);
    const rows = s.changed.flatMap((c) =>
      c.tensors.map((t) => [c.layer, t.tensor, humanBytes(t.bytesBefore), humanBytes(t.bytesAfter), t.sqnrDb === null || t.sqnrDb === undefined ? 'exact' : `${t.sqnrDb.toFixed(1)} dB`]),
    );
    if (rows.length) lines.push(indent(table(['layer', 'tensor', 'before', 'after', 'SQNR'], rows, new Set([2, 3, 4]))));
    for (const l of skipLines(s.skipped)) lines.push(`   skipped ${l}`);
    for (const n of s.notes) lines.push(`   ${n}`);
  });
  const data = (bytes: number, where = ''): string => (bytes ? ` + ${humanBytes(bytes)} external data${where}` : '');
  const names = (files: readonly string[]): string => files.map((f) => path.basename(f)).join(', ');
  const padded = report.dataFileBytesAfter > report.dataBytesAfter ? `, a ${humanBytes(report.dataFileBytesAfter)} file with alignment padding` : '';
  const written = data(report.dataBytesAfter, report.dataFileAfter ? ` in ${names([report.dataFileAfter])}${padded}` : '');
  const kept = data(report.keptDataBytes, ` kept in ${names(report.keptDataFiles)}`);
  lines.push(`wrote ${report.output}: ${humanBytes(report.fileBytesAfter ?? 0)}${written}${kept} (was ${humanBytes(report.fileBytesBefore)}${data(report.dataBytesBefore)})`);
  for (const left of report.leftDataFiles) lines.push(`   left ${path.basename(left.file)}, which it no longer reads: ${left.reason}`);
  return lines.join('\n');
}

function indent(text: string): string {
  return text.split('\n').map((l) => `   ${l}`).join('\n');
}
