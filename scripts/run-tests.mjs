// Runs every compiled test file with Node's built-in test runner (tests are bundled by build.mjs).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function testFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? testFiles(p) : p.endsWith('.test.js') ? [p] : [];
  });
}

const files = testFiles('dist/test').sort();
// Decoded messages are frozen under test, so any code that mutates one fails loudly.
const env = { ...process.env, ONNX_COMPRESS_FREEZE: '1' };
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
