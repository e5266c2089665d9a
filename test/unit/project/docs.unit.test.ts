/** The README stays a front door that tells the truth: the two commands first, short, every link and script it names real. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../helpers/paths';

const read = (f: string): string => fs.readFileSync(path.join(repoRoot, f), 'utf8');
const readme = read('README.md');
const docs = ['README.md', ...fs.readdirSync(path.join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (heading: string): string =>
  heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

test('the README opens with the two commands a newcomer needs, and stays short', () => {
  const first = readme.split('\n').slice(0, 6).join('\n');
  assert.match(first, /export ONNXRUNTIME_NODE_INSTALL=skip && npm ci && npm start /);
  assert.match(first, /export ONNXRUNTIME_NODE_INSTALL=skip && npm ci && npm test /);
  assert.ok(readme.split('\n').length <= 150, `README.md has ${readme.split('\n').length} lines`);
  assert.ok(read('.ci/run').includes('npm test'), 'CI runs the README test command');
});

test('every relative link in the README and docs/ leads to a file, and every #anchor to a heading', () => {
  for (const doc of docs) {
    const text = read(doc);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/i.test(target)) continue;
      const [file, anchor] = target.split('#');
      const resolved = file ? path.posix.join(path.posix.dirname(doc), file) : doc;
      assert.ok(fs.existsSync(path.join(repoRoot, resolved)), `${doc}: ${target} (no ${resolved})`);
      if (anchor) {
        const headings = [...read(resolved).matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]));
        assert.ok(headings.includes(anchor), `${doc}: ${target} (no such heading in ${resolved})`);
      }
    }
  }
});

test('the npm scripts the README and docs/ name exist, and the README image ships in the VSIX', () => {
  const scripts = JSON.parse(read('package.json')).scripts as Record<string, string>;
  for (const doc of docs) {
    for (const [, name] of read(doc).matchAll(/npm run ([\w:-]+)/g)) assert.ok(name in scripts, `${doc}: npm run ${name}`);
  }
  const ignore = read('.vscodeignore');
  for (const [, image] of readme.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)) assert.ok(ignore.includes(`!${image}`), `${image} is in the VSIX`);
});
