/** The CLI explains itself: help per command that lists exactly what it parses, --version, and "did you mean" for typos. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { COMMANDS } from '../../../src/cli/commands';
import { repoRoot } from '../../helpers/paths';

const cli = path.join(repoRoot, 'dist/cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

test('each command has its own --help listing its options and no other command\'s', () => {
  for (const c of COMMANDS) {
    const r = run(c.name, '--help');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^usage: onnx-compress ${c.name} MODEL`));
    for (const o of c.options) assert.match(r.stdout, new RegExp(`^  ${o.name}[ \\n]`, 'm'), `${c.name} --help lists ${o.name}`);
    assert.deepEqual(run('help', c.name).stdout, r.stdout, `help ${c.name} says the same`);
  }
  assert.match(run('analyze', '--help').stdout, /--report FILE\.md +also write the analysis as Markdown/);
  assert.doesNotMatch(run('analyze', '--help').stdout, /--baseline/);
  assert.match(run('eval', '--help').stdout, /--baseline BASE\.onnx/);
  assert.doesNotMatch(run('sensitivity', '--help').stdout, /--baseline/);
});

test('every option the help lists is one the parser takes', () => {
  for (const c of COMMANDS) {
    for (const o of c.options) {
      if (o.name === '--help') continue;
      // No MODEL: each run stops at a usage error, which must not be "unknown option".
      const r = run(c.name, o.name, ...(o.value ? ['1'] : []));
      assert.doesNotMatch(r.stderr, /unknown option|is an option of/, `${c.name} ${o.name}: ${r.stderr}`);
    }
  }
});

test('--help with no command lists the commands; no arguments at all is a usage error', () => {
  const help = run('--help');
  assert.equal(help.status, 0);
  for (const c of COMMANDS) assert.match(help.stdout, new RegExp(`^  ${c.name} `, 'm'));
  const bare = run();
  assert.equal(bare.status, 2);
  assert.match(bare.stderr, /^usage: onnx-compress COMMAND/);
});

test('--version prints package.json\'s version', () => {
  const { version } = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
  for (const flag of ['--version', '-V']) {
    const r = run(flag);
    assert.equal(r.status, 0);
    assert.equal(r.stdout, `${version}\n`);
  }
});

test('a misspelled option or command names the one that was meant, in one line and a pointer to --help', () => {
  const option = run('analyze', 'model.onnx', '--jsno');
  assert.equal(option.status, 2);
  assert.equal(option.stderr, "error: unknown option --jsno for analyze (did you mean '--json'?)\n(onnx-compress analyze --help lists its options)\n");
  assert.match(run('apply', 'm.onnx', '--recpie', 'r.json').stderr, /^error: unknown option --recpie for apply \(did you mean '--recipe'\?\)\n/);
  assert.match(run('eval', 'm.onnx', '--basline', 'b.onnx').stderr, /did you mean '--baseline'\?/);
  assert.match(run('analyse', 'm.onnx').stderr, /^error: unknown command 'analyse' \(did you mean 'analyze'\?\)\n\(onnx-compress --help lists the commands\)\n$/);
  assert.match(run('analyze', 'm.onnx', '--zzzzzz').stderr, /^error: unknown option --zzzzzz for analyze\n/, 'nothing close: no guess');
});

test('an option of another command is an error that says whose option it is', () => {
  const r = run('sensitivity', 'm.onnx', '--baseline', 'b.onnx');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^error: --baseline is an option of eval and report, not of sensitivity\n/);
  assert.match(run('analyze', 'm.onnx', '--recipe', 'r.json').stderr, /^error: --recipe is an option of apply, not of analyze\n/);
});
