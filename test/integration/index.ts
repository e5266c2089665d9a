/**
 * The integration suite's entry, run by VS Code inside the extension host (test-electron style):
 * mocha with the TDD interface over the *.itest.ts suites (imported below). Results also go to the file named by
 * ONNX_COMPRESS_TEST_RESULTS, so a driver sees them however the host's console is wired.
 */
import * as fs from 'node:fs';
import Mocha from 'mocha';

export async function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'tdd', timeout: 120_000, color: false, reporter: 'spec' });
  // ONNX_COMPRESS_TEST_GREP runs only the tests whose title matches (while working on one).
  if (process.env.ONNX_COMPRESS_TEST_GREP) mocha.grep(process.env.ONNX_COMPRESS_TEST_GREP);
  mocha.suite.emit('pre-require', globalThis, 'integration', mocha);
  await import('./editor.itest');
  await import('./recipe.itest');
  await import('./budget.itest');
  await import('./saveFailure.itest');
  await import('./calibration.itest');
  const results: { title: string; state: string; error?: string }[] = [];
  const failures = await new Promise<number>((resolve) => {
    const runner = mocha.run(resolve);
    runner.on('pass', (t) => results.push({ title: t.fullTitle(), state: 'passed' }));
    runner.on('fail', (t, err: Error) => results.push({ title: t.fullTitle(), state: 'failed', error: String(err?.stack ?? err) }));
  });
  const file = process.env.ONNX_COMPRESS_TEST_RESULTS;
  if (file) fs.writeFileSync(file, JSON.stringify({ failures, results }, null, 2));
  if (failures > 0) throw new Error(`${failures} integration test(s) failed`);
}
