/** The pure core must never import vscode: the lint rule that keeps that boundary really fires. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const offending = "import * as vscode from 'vscode';\nexport const x = vscode;\n";

test('importing vscode in the core is a lint error; in the host layer it is allowed', async () => {
  const eslint = new ESLint();
  for (const file of ['src/core/onnx/bad.ts', 'src/analyzers/bad.ts', 'src/transforms/bad.ts', 'src/cli/bad.ts']) {
    const [result] = await eslint.lintText(offending, { filePath: file });
    assert.ok(result.messages.some((m) => m.ruleId === 'no-restricted-imports'), `${file} is refused`);
  }
  for (const file of ['src/extension.ts', 'src/host/bad.ts']) {
    const [result] = await eslint.lintText(offending, { filePath: file });
    assert.ok(!result.messages.some((m) => m.ruleId === 'no-restricted-imports'), `${file} may import vscode`);
  }
});
