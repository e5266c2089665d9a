#!/usr/bin/env node
/**
 * The command line over the same core the editor uses.
 * Exit codes: 0 success, 2 bad input or usage (one line on stderr; `--debug` adds the stack).
 */
import * as path from 'node:path';
import { OnnxError } from '../core/errors';
import type { DatasetSpec } from '../eval/dataset';
import { runAnalyze, type AnalyzeOptions } from './analyzeCommand';
import { runApply, type ApplyOptions } from './applyCommand';
import { runEval, type EvalOptions } from './evalCommand';
import { DEFAULT_PREPROCESS, type ImagePreprocess } from '../eval/dataset';

const USAGE = `usage: onnx-compress analyze MODEL [--json] [--report FILE.md] [--no-redundancy] [--bins N] [--epsilon E] [--dim NAME=VALUE]... [--shape INPUT=DxDx...]... [--debug]
       onnx-compress apply MODEL --recipe RECIPE.json --output OUT.onnx [--json] [--external-data auto|always|never] [--debug]
       onnx-compress eval MODEL [--baseline BASE.onnx] [--data DATA.npz|DIR [--labels LABELS.npy]]
                     [--images ROOT [--input NAME] [--resize N|WxH] [--crop WxH] [--scale S] [--mean R,G,B] [--std R,G,B] [--bgr] [--nhwc]]
                     [--samples N] [--shape INPUT=DxD...] [--limit N] [--batch N] [--threads N] [--optimization disabled|basic|extended|all]
                     [--timeout SECONDS] [--json] [--debug]`;

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  const debug = argv.includes('--debug');
  try {
    const [command, ...rest] = argv.filter((a) => a !== '--debug');
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
          else if (a === '--epsilon') options.nearZeroEpsilon = positiveNumber(rest[++i], '--epsilon', false);
          else if (a === '--dim') {
            const m = /^([^=]+)=(\d+)$/.exec(rest[++i] ?? '');
            if (!m) usage('--dim needs NAME=VALUE, e.g. --dim batch=1');
            options.dims[m[1]] = positiveNumber(m[2], '--dim', true);
          } else if (a === '--shape') {
            const m = /^(.+)=(\d+(?:x\d+)*)$/.exec(rest[++i] ?? '');
            if (!m) usage('--shape needs INPUT=DIMS, e.g. --shape input=1x3x224x224');
            options.inputShapes[m[1]] = m[2].split('x').map((d) => positiveNumber(d, '--shape', true));
          }
          else if (a.startsWith('--')) usage(`unknown option ${a}`);
          else positional.push(a);
        }
        if (positional.length !== 1) usage('analyze takes exactly one MODEL');
        await runAnalyze(positional[0], options, (t) => process.stdout.write(t + '\n'));
        return 0;
      }
      case 'apply': {
        const positional: string[] = [];
        const options: Partial<ApplyOptions> = { json: false };
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i];
          if (a === '--json') options.json = true;
          else if (a === '--recipe') options.recipe = rest[++i] ?? usage('--recipe needs a file');
          else if (a === '--output' || a === '-o') options.output = rest[++i] ?? usage('--output needs a file');
          else if (a === '--external-data') {
            const mode = rest[++i];
            if (mode !== 'auto' && mode !== 'always' && mode !== 'never') usage('--external-data takes auto, always or never');
            options.externalData = mode;
          } else if (a.startsWith('--')) usage(`unknown option ${a}`);
          else positional.push(a);
        }
        if (positional.length !== 1) usage('apply takes exactly one MODEL');
        if (!options.recipe) usage('apply needs --recipe RECIPE.json');
        if (!options.output) usage('apply needs --output OUT.onnx');
        await runApply(positional[0], options as ApplyOptions, (t) => process.stdout.write(t + '\n'));
        return 0;
      }
      case 'eval': {
        const positional: string[] = [];
        let data: string | undefined;
        let labels: string | undefined;
        let images: string | undefined;
        let input: string | undefined;
        let samples = 32;
        const shapes: Record<string, number[]> = {};
        const pre: { -readonly [K in keyof ImagePreprocess]: ImagePreprocess[K] } = { ...DEFAULT_PREPROCESS };
        const options: Omit<EvalOptions, 'dataset'> = { batchSize: 8, threads: 1, optimization: 'all', timeoutSeconds: 3600, json: false };
        const size = (v: string | undefined, option: string): [number, number] => {
          const m = /^(\d+)x(\d+)$/.exec(v ?? '');
          if (!m) usage(`${option} needs WIDTHxHEIGHT, e.g. 224x224`);
          return [positiveNumber(m[1], option, true), positiveNumber(m[2], option, true)];
        };
        const triple = (v: string | undefined, option: string): [number, number, number] => {
          const parts = (v ?? '').split(',').map(Number);
          if (parts.length !== 3 || parts.some((x) => !Number.isFinite(x))) usage(`${option} needs three numbers, e.g. 0.485,0.456,0.406`);
          return parts as [number, number, number];
        };
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i];
          if (a === '--json') options.json = true;
          else if (a === '--baseline') options.baseline = rest[++i] ?? usage('--baseline needs a model');
          else if (a === '--data') data = rest[++i] ?? usage('--data needs a .npz file or a folder of .npy files');
          else if (a === '--labels') labels = rest[++i] ?? usage('--labels needs a .npy file');
          else if (a === '--images') images = rest[++i] ?? usage('--images needs a folder of <class>/<image> files');
          else if (a === '--input') input = rest[++i] ?? usage('--input needs an input name');
          else if (a === '--resize') {
            const v = rest[++i];
            pre.resize = /^\d+$/.test(v ?? '') ? positiveNumber(v, '--resize', true) : size(v, '--resize');
          } else if (a === '--crop') pre.crop = size(rest[++i], '--crop');
          else if (a === '--no-crop') pre.crop = undefined;
          else if (a === '--scale') pre.scale = positiveNumber(rest[++i], '--scale', false);
          else if (a === '--mean') pre.mean = triple(rest[++i], '--mean');
          else if (a === '--std') pre.std = triple(rest[++i], '--std');
          else if (a === '--bgr') pre.channels = 'bgr';
          else if (a === '--nhwc') pre.layout = 'nhwc';
          else if (a === '--samples') samples = positiveNumber(rest[++i], '--samples', true);
          else if (a === '--shape') {
            const m = /^(.+)=(\d+(?:x\d+)*)$/.exec(rest[++i] ?? '');
            if (!m) usage('--shape needs INPUT=DIMS, e.g. --shape input=1x3x224x224');
            shapes[m[1]] = m[2].split('x').map((d) => positiveNumber(d, '--shape', true));
          } else if (a === '--limit') options.limit = positiveNumber(rest[++i], '--limit', true);
          else if (a === '--batch') options.batchSize = positiveNumber(rest[++i], '--batch', true);
          else if (a === '--threads') options.threads = positiveNumber(rest[++i], '--threads', true);
          else if (a === '--timeout') options.timeoutSeconds = positiveNumber(rest[++i], '--timeout', false);
          else if (a === '--optimization') {
            const level = rest[++i];
            if (level !== 'disabled' && level !== 'basic' && level !== 'extended' && level !== 'all') usage('--optimization takes disabled, basic, extended or all');
            options.optimization = level;
          } else if (a.startsWith('--')) usage(`unknown option ${a}`);
          else positional.push(a);
        }
        if (positional.length !== 1) usage('eval takes exactly one MODEL');
        if (data && images) usage('give --data or --images, not both');
        const dataset: DatasetSpec = data
          ? { kind: 'numpy', path: path.resolve(data), ...(labels ? { labels: path.resolve(labels) } : {}) }
          : images
            ? { kind: 'images', root: path.resolve(images), preprocess: pre, ...(input ? { input } : {}) }
            : { kind: 'synthetic', samples, seed: 1, shapes };
        await runEval(positional[0], { ...options, dataset }, (t) => process.stdout.write(t + '\n'), (line) => {
          if (process.stderr.isTTY) process.stderr.write(`\r${line}   `);
        });
        if (process.stderr.isTTY) process.stderr.write('\n');
        return 0;
      }
      case undefined:
      case '--help':
      case '-h':
        process.stdout.write(USAGE + '\n');
        return command === undefined ? 2 : 0;
      default:
        usage(`unknown command '${command}'`);
    }
  } catch (e) {
    if (debug) process.stderr.write(`${(e as Error).stack ?? e}\n`);
    else if (e instanceof UsageError) process.stderr.write(`error: ${e.message}\n${USAGE}\n`);
    else if (e instanceof OnnxError) process.stderr.write(`error: ${e.message}\n`);
    else process.stderr.write(`error: ${(e as Error).message ?? e} (run with --debug for details)\n`);
    return 2;
  }
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

void main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
