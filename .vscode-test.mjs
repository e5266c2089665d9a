// For machines that can download VS Code (not these offline ones: see scripts/run-vscode-tests.mjs,
// which runs the same suite in code-server): `npm run build && node .vscode-test.mjs`.
import { runTests } from '@vscode/test-electron';
import { resolve } from 'node:path';

const root = resolve('.');
process.exitCode = await runTests({
  extensionDevelopmentPath: root,
  extensionTestsPath: resolve(root, 'dist/test/integration/index.js'),
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
}).catch((e) => {
  console.error(e);
  return 1;
});
