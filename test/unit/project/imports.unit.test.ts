/** No two files of src/ import each other, however indirectly, and each area imports only the areas below it. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { repoRoot } from '../../helpers/paths';
import { importCircles, importGraph, importsOf } from '../../helpers/importGraph';

// compressionReport.ts ⇄ reportRows.ts is being split apart on another branch (issue 15);
// remove this entry when that lands. Nothing else may be allowed here.
const ALLOWED = [['src/report/compressionReport.ts', 'src/report/reportRows.ts']];

test('the import reader sees imports, type imports and re-exports over several lines', () => {
  const text = "import { a } from './a';\nimport type {\n  B,\n} from '../b';\nexport { c } from './c';\nexport * from './d';\nimport './e';\nconst s = 'from x';\n";
  assert.deepEqual(importsOf(text).sort(), ['../b', './a', './c', './d', './e']);
});

test('a circle is found, however long', () => {
  const graph = new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]);
  assert.deepEqual(importCircles(graph), [['a', 'b', 'c']]);
});

test('src/ has no import circle', () => {
  const allowed = new Set(ALLOWED.map((c) => c.join(' ⇄ ')));
  const circles = importCircles(importGraph(repoRoot)).map((c) => c.join(' ⇄ '));
  assert.deepEqual(circles.filter((c) => !allowed.has(c)), []);
});

// What each area may import besides itself. The core is plain ONNX; analyzers read it; transforms
// rewrite it; eval runs it; shared/ (both sides of the webview line) may name their types.
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  core: [],
  analyzers: ['core', 'shared'],
  transforms: ['core', 'analyzers', 'shared'],
  eval: ['core', 'analyzers', 'transforms', 'shared'],
  report: ['core', 'analyzers', 'transforms', 'eval', 'shared'],
  shared: ['core', 'analyzers', 'transforms', 'report'],
  webviews: ['core', 'analyzers', 'transforms', 'report', 'shared'],
};

test('no import runs back up (the core never reads analyzers, analyzers never read reports...)', () => {
  const area = (file: string): string => file.split('/')[1].replace(/\.ts$/, '');
  const upward: string[] = [];
  for (const [file, targets] of importGraph(repoRoot)) {
    const allowed = MAY_IMPORT[area(file)];
    if (!allowed) continue; // cli, host and extension.ts sit on top
    for (const t of targets) if (area(t) !== area(file) && !allowed.includes(area(t))) upward.push(`${file} → ${t}`);
  }
  assert.deepEqual(upward, []);
});
