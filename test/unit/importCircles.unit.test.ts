/** No two files of src/ import each other, however indirectly: layers import downward only. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { repoRoot } from '../helpers/paths';
import { importCircles, importGraph, importsOf } from '../helpers/importGraph';

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
