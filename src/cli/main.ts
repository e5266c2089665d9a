#!/usr/bin/env node
/**
 * The command line over the same core the editor uses.
 * Exit codes: 0 success, 2 bad input or usage (one line on stderr; `--debug` adds the stack).
 */
import { OnnxError } from '../core/errors';
import { runAnalyze, type AnalyzeOptions } from './analyzeCommand';
import { runApply, type ApplyOptions } from './applyCommand';

const USAGE = `usage: onnx-compress analyze MODEL [--json] [--report FILE.md] [--no-redundancy] [--bins N] [--epsilon E] [--dim NAME=VALUE]... [--shape INPUT=DxDx...]... [--debug]
       onnx-compress apply MODEL --recipe RECIPE.json --output OUT.onnx [--json] [--external-data auto|always|never] [--debug]`;

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
