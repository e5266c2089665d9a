/** Progress is one updating stderr line for a person at a terminal, and nothing at all anywhere else. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { progressWriter } from '../../../src/cli/progress';
import { progressLine } from '../../../src/cli/analyzeCommand';
import { repoRoot, thirdPartyModels } from '../../helpers/paths';

function fakeStream(isTTY: boolean, columns = 40) {
  const written: string[] = [];
  return { written, stream: { isTTY, columns, write: (t: string) => written.push(t) } };
}

test('not a terminal: the writer writes nothing', () => {
  const { written, stream } = fakeStream(false);
  const p = progressWriter(stream, 0);
  p.update('analyzing: 1 of 2 layers');
  p.done();
  assert.deepEqual(written, []);
});

test('a terminal: one line rewritten in place, throttled, cut to the width, cleared at the end', () => {
  const { written, stream } = fakeStream(true, 20);
  let now = 0;
  const p = progressWriter(stream, 100, () => now);
  p.update('short');
  now = 50;
  p.update('dropped: too soon');
  now = 150;
  p.update('a line far longer than the terminal is wide');
  p.done();
  assert.equal(written.length, 3);
  assert.equal(written[0], '\rshort\x1b[K');
  assert.equal(written[1], `\r${'a line far longer '}…\x1b[K`);
  assert.equal(written[1].length - '\r\x1b[K'.length, 19, 'one column short of the width, so it never wraps');
  assert.equal(written[2], '\r\x1b[K');
});

test('the analysis progress line counts layers and the share of the weights done', () => {
  assert.equal(progressLine({ layersDone: 12, layersTotal: 90, elementsDone: 43, elementsTotal: 100 }), 'analyzing: 12 of 90 layers, 43% of the weights');
});

const model = path.join(thirdPartyModels, 'silero_vad_v5.onnx');
const cli = path.join(repoRoot, 'dist/cli.js');

test('analyze in a pseudo-terminal shows progress on stderr; piped, stderr stays empty and --json stays clean', { skip: spawnSync('script', ['--version']).status !== 0 && 'no script(1)' }, () => {
  const piped = spawnSync(process.execPath, [cli, 'analyze', model, '--json', '--workers', '1'], { encoding: 'utf8' });
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(piped.stderr, '');
  JSON.parse(piped.stdout);
  // script(1) gives the CLI a terminal for stdin, stdout and stderr; its output is what the terminal saw.
  const command = `${JSON.stringify(process.execPath)} ${JSON.stringify(cli)} analyze ${JSON.stringify(model)} --workers 1 --no-redundancy`;
  const tty = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env: { ...process.env, COLUMNS: '100' } });
  assert.equal(tty.status, 0, tty.stdout);
  assert.match(tty.stdout, /\ranalyzing: \d+ of \d+ layers/);
  assert.ok(tty.stdout.includes('\r\x1b[K'), 'the line is cleared before the table');
});
