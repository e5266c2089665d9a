#!/usr/bin/env node
/**
 * The command line over the same core the editor uses.
 * Exit codes: 0 success, 1 `eval` missed a budget (FAIL), 2 bad input or usage (one line on
 * stderr; `--debug` adds the stack), 3 `apply` changed nothing or `sensitivity` planned no layer
 * (nothing is written; the reasons are on stderr or stdout, or in the JSON).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OnnxError, printable } from '../core/errors';
import type { DatasetSpec } from '../eval/dataset';
import { runAnalyze, type AnalyzeOptions } from './analyzeCommand';
import { runApply, type ApplyOptions } from './applyCommand';
import { sameFile } from '../core/onnx/sameFile';
import { saveTarget } from '../core/onnx/saveFiles';
import { inputAt, openOnce, type NamedInput } from './outputs';
import type { OnnxModel } from '../core/onnx/model';
import { runEval, type EvalOptions } from './evalCommand';
import { runSensitivity } from './sensitivityCommand';
import { runReport } from './reportCommand';
import type { ReportFormat } from '../shared/protocol';
import { DEFAULT_PREPROCESS, type ImagePreprocess } from '../eval/dataset';
import { commandHelp, commandSpec, generalHelp, unknownCommand, unknownOption } from './commands';
import { progressWriter } from './progress';
import { parseBudget, type BudgetKind } from '../eval/budgets';
import { parseTask } from './taskOption';
import { parseTransform } from './stepOption';
import { version } from '../../package.json';

/** A usage mistake: the message, then where the command's options are listed. */
class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  const [command, ...rest] = argv.filter((a) => a !== '--debug');
  const progress = progressWriter(process.stderr);
  try {
    const spec = commandSpec(command);
    if (spec && (rest.includes('--help') || rest.includes('-h'))) {
      process.stdout.write(`${commandHelp(spec)}\n`);
      return 0;
    }
    switch (command) {
      case 'analyze': {
        const positional: string[] = [];
        const options: AnalyzeOptions = { json: false, redundancy: true, dims: {}, inputShapes: {} };
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i];
          if (a === '--json') options.json = true;
          else if (a === '--no-redundancy') options.redundancy = false;
          else if (a === '--report') options.report = rest[++i] ?? usage('--report needs a file');
          else if (a === '--bins') options.bins = positiveNumber(rest[++i], '--bins', true);
          else if (a === '--epsilon') options.nearZeroEpsilon = fraction(rest[++i], '--epsilon');
          else if (a === '--workers') options.workers = positiveNumber(rest[++i], '--workers', true);
          else if (a === '--dim') {
            const m = /^([^=]+)=(\d+)$/.exec(rest[++i] ?? '');
            if (!m) usage('--dim needs NAME=VALUE, e.g. --dim batch=1');
            options.dims[m[1]] = positiveNumber(m[2], '--dim', true);
          } else if (a === '--shape') {
            const m = /^(.+)=(\d+(?:x\d+)*)$/.exec(rest[++i] ?? '');
            if (!m) usage('--shape needs INPUT=DIMS, e.g. --shape input=1x3x224x224');
            options.inputShapes[m[1]] = m[2].split('x').map((d) => positiveNumber(d, '--shape', true));
          }
          else if (a.startsWith('-')) usage(unknownOption(a, command));
          else positional.push(a);
        }
        if (positional.length !== 1) usage('analyze takes exactly one MODEL');
        if (options.report) checkOutput(options.report, '--report', [{ file: positional[0], name: 'the input model' }]);
        await runAnalyze(positional[0], { ...options, onProgress: progress.update }, (t) => write(t, progress.done));
        return 0;
      }
      case 'apply': {
        const positional: string[] = [];
        const options: Partial<ApplyOptions> = { json: false };
        let inPlace = false;
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i];
          if (a === '--json') options.json = true;
          else if (a === '--in-place') inPlace = true;
          else if (a === '--recipe') options.recipe = rest[++i] ?? usage('--recipe needs a file');
          else if (a === '--output' || a === '-o') options.output = rest[++i] ?? usage('--output needs a file');
          else if (a === '--external-data') {
            const mode = rest[++i];
            if (mode !== 'auto' && mode !== 'always' && mode !== 'never') usage('--external-data takes auto, always or never');
            options.externalData = mode;
          } else if (a.startsWith('-')) usage(unknownOption(a, command));
          else positional.push(a);
        }
        if (positional.length !== 1) usage('apply takes exactly one MODEL');
        if (!options.recipe) usage('apply needs --recipe RECIPE.json');
        const open = openOnce();
        options.output = applyDestination(positional[0], options.output, inPlace, open);
        const report = await runApply(
          open(positional[0]),
          options as ApplyOptions,
          (t) => write(t, progress.done),
          (t) => {
            progress.done();
            process.stderr.write(`${t}\n`);
          },
          progress.update,
        );
        return report.nothingChanged ? 3 : 0;
      }
      case 'eval':
      case 'sensitivity': {
        const positional: string[] = [];
        const data = new DataOptions();
        const options: Omit<EvalOptions, 'dataset'> = { batchSize: 8, threads: 1, optimization: 'all', timeoutSeconds: 3600, json: false };
        let transform: string | undefined;
        let targetBytes: number | undefined;
        let targetRatio: number | undefined;
        let planFile: string | undefined;
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i];
          if (data.take(a, () => rest[++i])) continue;
          if (a === '--json') options.json = true;
          else if (a === '--baseline' && command === 'eval') options.baseline = rest[++i] ?? usage('--baseline needs a model');
          else if (a === '--limit') options.limit = positiveNumber(rest[++i], '--limit', true);
          else if (a === '--batch') options.batchSize = positiveNumber(rest[++i], '--batch', true);
          else if (a === '--threads') options.threads = positiveNumber(rest[++i], '--threads', true);
          else if (a === '--timeout' && command === 'eval') options.timeoutSeconds = positiveNumber(rest[++i], '--timeout', false);
          else if (a === '--optimization' && command === 'eval') {
            const level = rest[++i];
            if (level !== 'disabled' && level !== 'basic' && level !== 'extended' && level !== 'all') usage('--optimization takes disabled, basic, extended or all');
            options.optimization = level;
          } else if (a === '--task') {
            const task = parseTask(rest[++i]);
            if (typeof task === 'string') usage(task);
            if (task.lm) options.task = 'lm';
            else options.outputTasks = { ...options.outputTasks, ...task.outputs };
          } else if (a === '--max-drop' || a === '--min-agreement' || a === '--min-sqnr') {
            const budget = parseBudget(a.slice(2) as BudgetKind, rest[++i] ?? '');
            if (typeof budget === 'string') usage(budget);
            options.budgets = [...(options.budgets ?? []), budget];
          } else if (a === '--provider' && command === 'eval') options.providers = [...(options.providers ?? []), rest[++i] ?? usage('--provider needs a name, e.g. cuda')];
          else if (a === '--transform' && command === 'sensitivity') transform = rest[++i] ?? usage('--transform needs a recipe step as JSON or a file of one');
          else if (a === '--target-bytes' && command === 'sensitivity') targetBytes = positiveNumber(rest[++i], '--target-bytes', false);
          else if (a === '--target-ratio' && command === 'sensitivity') targetRatio = fraction(rest[++i], '--target-ratio');
          else if (a === '--plan' && command === 'sensitivity') planFile = rest[++i] ?? usage('--plan needs a file');
          else if (a.startsWith('-')) usage(unknownOption(a, command));
          else positional.push(a);
        }
        if (positional.length !== 1) usage(`${command} takes exactly one MODEL`);
        if (targetBytes !== undefined && targetRatio !== undefined) usage('give --target-bytes or --target-ratio, not both');
        if (planFile) checkOutput(planFile, '--plan', [{ file: positional[0], name: 'the input model' }]);
        const dataset = data.spec();
        if (command === 'eval') {
          if (options.budgets?.length && !options.baseline) usage(`--${options.budgets[0].kind} judges the model against a baseline: give --baseline BASE.onnx`);
          const report = await runEval(positional[0], { ...options, dataset }, (t) => write(t, progress.done), progress.update);
          if (report.verdict && !report.verdict.pass) return 1;
        } else {
          if (!transform) usage('sensitivity needs --transform \'{"transform": "quantize", ...}\' (or STEP.json)');
          const step = parseTransform(transform);
          if (typeof step === 'string') usage(step);
          const report = await runSensitivity(positional[0], {
            step, dataset, limit: options.limit ?? 64, batchSize: options.batchSize, threads: options.threads,
            targetBytes, targetRatio, planFile, json: options.json, budgets: options.budgets, task: options.task, outputTasks: options.outputTasks,
          }, (t) => write(t, progress.done), progress.update);
          if (report.nothingPlanned) return 3;
        }
        return 0;
      }
      case 'report': {
        const positional: string[] = [];
        let baseline: string | undefined;
        let format: ReportFormat | undefined;
        let output: string | undefined;
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i];
          if (a === '--baseline') baseline = rest[++i] ?? usage('--baseline needs a model');
          else if (a === '--output' || a === '-o') output = rest[++i] ?? usage('--output needs a file');
          else if (a === '--format') {
            const f = rest[++i];
            format = f === 'md' || f === 'markdown' ? 'markdown' : f === 'html' || f === 'json' ? f : usage('--format takes md, html or json');
          } else if (a.startsWith('-')) usage(unknownOption(a, command));
          else positional.push(a);
        }
        if (positional.length !== 1) usage('report takes exactly one MODEL');
        if (!baseline) usage('report needs --baseline BASE.onnx: the model MODEL is compared with');
        if (output) checkOutput(output, '--output', [{ file: positional[0], name: 'the input model' }, { file: baseline, name: 'the baseline model' }]);
        await runReport(positional[0], { baseline, format, output }, (t) => write(t, progress.done), (t) => process.stderr.write(`${t}\n`));
        return 0;
      }
      case 'help': {
        const about = rest[0] === undefined ? undefined : (commandSpec(rest[0]) ?? usage(unknownCommand(rest[0])));
        process.stdout.write(`${about ? commandHelp(about) : generalHelp()}\n`);
        return 0;
      }
      case '--version':
      case '-V':
        process.stdout.write(`${version}\n`);
        return 0;
      case undefined:
      case '--help':
      case '-h':
        (command === undefined ? process.stderr : process.stdout).write(generalHelp() + '\n');
        return command === undefined ? 2 : 0;
      default:
        usage(unknownCommand(command));
    }
  } catch (e) {
    progress.done();
    const help = commandSpec(command) ? `onnx-compress ${command} --help lists its options` : 'onnx-compress --help lists the commands';
    // Messages echo names from files and arguments: printable() escapes control characters and cuts huge names.
    if (debug) process.stderr.write(`${String((e as Error).stack ?? e).split('\n').map(printable).join('\n')}\n`);
    else if (e instanceof UsageError) process.stderr.write(`error: ${printable(e.message)}\n(${help})\n`);
    else if (e instanceof OnnxError) process.stderr.write(`error: ${e.message}\n`);
    else process.stderr.write(`error: ${printable(String((e as Error).message ?? e))} (run with --debug for details)\n`);
    return 2;
  }
}

/** Results go to stdout once the progress line is cleared from the terminal. */
function write(text: string, clearProgress: () => void): void {
  clearProgress();
  process.stdout.write(`${text}\n`);
}

const IMAGE_OPTIONS = new Set(['--input', '--resize', '--crop', '--no-crop', '--scale', '--mean', '--std', '--bgr', '--nhwc']);

/** The options that say where evaluation data comes from (shared by eval and sensitivity). */
class DataOptions {
  private data?: string;
  private labels?: string;
  private images?: string;
  private input?: string;
  private samples = 32;
  private readonly shapes: Record<string, number[]> = {};
  private readonly dims: Record<string, number> = {};
  private readonly values: Record<string, number> = {};
  /** The synthetic-input options given, to refuse them next to real data. */
  private readonly synthetic: string[] = [];
  /** The image options given, to refuse them without --images. */
  private readonly imageOptions: string[] = [];
  private readonly pre: { -readonly [K in keyof ImagePreprocess]: ImagePreprocess[K] } = { ...DEFAULT_PREPROCESS };

  /** Consumes `option` (and its value through `next`) if it is a data option. */
  take(option: string, next: () => string | undefined): boolean {
    const size = (v: string | undefined): [number, number] => {
      const m = /^(\d+)x(\d+)$/.exec(v ?? '');
      if (!m) usage(`${option} needs WIDTHxHEIGHT, e.g. 224x224`);
      return [positiveNumber(m[1], option, true), positiveNumber(m[2], option, true)];
    };
    const triple = (v: string | undefined): [number, number, number] => {
      const parts = (v ?? '').split(',').map(Number);
      if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) usage(`${option} needs three numbers, e.g. 0.485,0.456,0.406`);
      return parts as [number, number, number];
    };
    if (IMAGE_OPTIONS.has(option)) this.imageOptions.push(option);
    switch (option) {
      case '--data': this.data = next() ?? usage('--data needs a .npz file or a folder of .npy files'); return true;
      case '--labels': this.labels = next() ?? usage('--labels needs a .npy file'); return true;
      case '--images': this.images = next() ?? usage('--images needs a folder of <class>/<image> files'); return true;
      case '--input': this.input = next() ?? usage('--input needs an input name'); return true;
      case '--resize': {
        const v = next();
        this.pre.resize = /^\d+$/.test(v ?? '') ? positiveNumber(v, '--resize', true) : size(v);
        return true;
      }
      case '--crop': this.pre.crop = size(next()); return true;
      case '--no-crop': this.pre.crop = undefined; return true;
      case '--scale': this.pre.scale = positiveNumber(next(), '--scale', false); return true;
      case '--mean': this.pre.mean = triple(next()); return true;
      case '--std': this.pre.std = triple(next()); return true;
      case '--bgr': this.pre.channels = 'bgr'; return true;
      case '--nhwc': this.pre.layout = 'nhwc'; return true;
      case '--samples': this.samples = positiveNumber(next(), '--samples', true); this.synthetic.push(option); return true;
      case '--shape': {
        const m = /^(.+)=(\d+(?:x\d+)*)?$/.exec(next() ?? '');
        if (!m) usage('--shape needs INPUT=DIMS, e.g. --shape input=1x3x224x224 (input= for a scalar)');
        this.shapes[m[1]] = m[2] ? m[2].split('x').map((d) => positiveNumber(d, '--shape', true)) : [];
        this.synthetic.push(option);
        return true;
      }
      case '--dim': {
        const m = /^(.+)=(\d+)$/.exec(next() ?? '');
        if (!m) usage('--dim needs NAME=VALUE, e.g. --dim sequence=512');
        this.dims[m[1]] = positiveNumber(m[2], '--dim', true);
        this.synthetic.push(option);
        return true;
      }
      case '--value': {
        const m = /^(.+)=(-?[0-9.]+(?:e-?\d+)?)$/i.exec(next() ?? '');
        if (!m || !Number.isFinite(Number(m[2]))) usage('--value needs INPUT=NUMBER, e.g. --value sr=16000');
        this.values[m[1]] = Number(m[2]);
        this.synthetic.push(option);
        return true;
      }
      default:
        return false;
    }
  }

  spec(): DatasetSpec {
    if (this.data && this.images) usage('give --data or --images, not both');
    if (this.imageOptions.length && !this.images) usage(`${this.imageOptions[0]} prepares images: it goes with --images ROOT`);
    if (this.labels && !this.data) usage('--labels goes with --data (NumPy inputs); image folders take their labels from the class folders');
    if ((this.data || this.images) && this.synthetic.length) usage(`${this.synthetic[0]} is an option of synthetic inputs; with ${this.data ? '--data' : '--images'} the data gives the shapes, values and count (--limit N uses fewer)`);
    if (this.data) return { kind: 'numpy', path: path.resolve(this.data), ...(this.labels ? { labels: path.resolve(this.labels) } : {}) };
    if (this.images) return { kind: 'images', root: path.resolve(this.images), preprocess: this.pre, ...(this.input ? { input: this.input } : {}) };
    return { kind: 'synthetic', samples: this.samples, seed: 1, shapes: this.shapes, dims: this.dims, values: this.values };
  }
}

/**
 * Where apply writes. Overwriting the input takes --in-place (a typo in --output must not eat the
 * model); in place, the model's real path is replaced (a symlink stays a symlink).
 */
function applyDestination(model: string, output: string | undefined, inPlace: boolean, open: (file: string) => OnnxModel): string {
  if (inPlace) {
    if (output !== undefined && !sameFile(output, model)) usage(`--in-place writes to ${model}; give --output ${output} or --in-place, not both`);
    try {
      return fs.realpathSync(model);
    } catch {
      return model; // missing: opening it reports the error
    }
  }
  if (output === undefined) usage('apply needs --output OUT.onnx (or --in-place to replace MODEL)');
  const input = [{ file: model, name: 'the input model' }];
  if (sameFile(output, model)) usage(`--output ${output} is the input model; pass --in-place to replace it`);
  checkOutput(output, '--output', input, open);
  // The writer refuses this too, but only once the recipe has run.
  const side = inputAt(`${output}.data`, input, open);
  if (side) usage(`--output ${output} would write its external data over ${side}; nothing written`);
  return output;
}

/**
 * Refuses, before any work, an output that is one of the inputs (or a file they read), a folder,
 * or in a folder that does not exist: the same checks a model save makes.
 */
function checkOutput(output: string, option: string, inputs: readonly NamedInput[], open?: (file: string) => OnnxModel): void {
  const input = inputAt(output, inputs, open);
  if (input) usage(`${option} ${output} is ${input}; nothing written`);
  saveTarget(path.resolve(output));
}

function usage(message: string): never {
  throw new UsageError(message);
}

function positiveNumber(value: string | undefined, option: string, integer: boolean): number {
  const n = Number(value);
  if (value === undefined || !(n > 0) || (integer && !Number.isInteger(n)) || (integer && n > 1_000_000)) {
    usage(`${option} needs a positive ${integer ? 'whole number up to 1,000,000' : 'number'}`);
  }
  return n;
}

/** A number strictly between 0 and 1: a share of something (0 or all of it would mean nothing). */
function fraction(value: string | undefined, option: string): number {
  const n = Number(value);
  if (value === undefined || !(n > 0 && n < 1)) usage(`${option} needs a number between 0 and 1, not ${value ?? 'nothing'}`);
  return n;
}

// A reader that stops early (`| head`) closes the pipe: stop quietly, not with an EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  });
}

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
