/** src/report's files import each other in one direction: a circle would tie the browser-safe rows to Node code. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../helpers/paths';

const dir = path.join(repoRoot, 'src/report');

function localImports(file: string): string[] {
  const text = fs.readFileSync(path.join(dir, file), 'utf8');
  return [...text.matchAll(/from '\.\/([\w.]+)'/g)].map((m) => `${m[1]}.ts`);
}

test('src/report has no import circle', () => {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
  const visiting = new Set<string>();
  const done = new Set<string>();
  const visit = (file: string, trail: string[]): void => {
    if (done.has(file)) return;
    assert.ok(!visiting.has(file), `import circle: ${[...trail, file].join(' → ')}`);
    visiting.add(file);
    for (const next of localImports(file)) visit(next, [...trail, file]);
    visiting.delete(file);
    done.add(file);
  };
  for (const f of files) visit(f, []);
  assert.ok(files.includes('compressionReport.ts') && files.includes('reportRows.ts'));
});
