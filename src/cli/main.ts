#!/usr/bin/env node
/**
 * The command line over the same core the editor uses.
 * Exit codes: 0 success, 2 bad input or usage (one line on stderr; `--debug` adds the stack).
 */
import { OnnxError } from '../core/errors';
import { runAnalyze } from './analyzeCommand';

const USAGE = `usage: onnx-compress analyze MODEL [--json] [--report FILE.md] [--debug]`;

class UsageError extends Error {}

function main(argv: string[]): number {
  const debug = argv.includes('--debug');
  try {
    const [command, ...rest] = argv.filter((a) => a !== '--debug');
    switch (command) {
      case 'analyze': {
        const positional: string[] = [];
        let json = false;
        let report: string | undefined;
        for (let i = 0; i < rest.length; i++) {
          const a = rest[i];
          if (a === '--json') json = true;
          else if (a === '--report') report = rest[++i] ?? usage('--report needs a file');
          else if (a.startsWith('--')) usage(`unknown option ${a}`);
          else positional.push(a);
        }
        if (positional.length !== 1) usage('analyze takes exactly one MODEL');
        runAnalyze(positional[0], { json, report }, (t) => process.stdout.write(t + '\n'));
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

process.exitCode = main(process.argv.slice(2));
