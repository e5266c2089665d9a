/**
 * The lint rules that keep the layers apart really fire: the pure core never imports vscode, and
 * src/shared/ (read by the webviews and the host alike) imports neither vscode, nor Node, nor the host.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ESLint } from 'eslint';

const offending = "import * as vscode from 'vscode';\nexport const x = vscode;\n";

async function refused(file: string, text: string): Promise<boolean> {
  const [result] = await new ESLint().lintText(text, { filePath: file });
  return result.messages.some((m) => m.ruleId === 'no-restricted-imports');
}

test('importing vscode in the core is a lint error; in the host layer it is allowed', async () => {
  for (const file of ['src/core/onnx/bad.ts', 'src/analyzers/bad.ts', 'src/transforms/bad.ts', 'src/cli/bad.ts', 'src/shared/bad.ts']) {
    assert.ok(await refused(file, offending), `${file} is refused`);
  }
  for (const file of ['src/extension.ts', 'src/host/bad.ts']) {
    assert.ok(!(await refused(file, offending)), `${file} may import vscode`);
  }
});

test('src/shared/ imports neither Node built-ins nor the host layer', async () => {
  const imports = [
    "import * as fs from 'node:fs';",
    "import * as path from 'path';",
    "import { OnnxDocument } from '../host/onnxDocument';",
    "import type { Settings } from '../../../src/host/settings';",
  ];
  for (const line of imports) assert.ok(await refused('src/shared/bad.ts', `${line}\nexport const x = 1;\n`), `src/shared/ refuses ${line}`);
  // What shared code may read: other shared files and the pure core's types.
  for (const line of ["import { humanBytes } from './format';", "import type { StepPreview } from '../analyzers/stepPreview';"]) {
    assert.ok(!(await refused('src/shared/ok.ts', `${line}\nexport const x = 1;\n`)), `src/shared/ may ${line}`);
  }
  // The core may still use Node (the rule is shared/'s alone).
  assert.ok(!(await refused('src/core/ok.ts', "import * as fs from 'node:fs';\nexport const x = fs;\n")));
});
