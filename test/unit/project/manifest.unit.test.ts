/** The extension manifest: the walkthrough's media exist and its buttons run contributed commands; the sample ships. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../../helpers/paths';

const manifest = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));

test('every walkthrough step has its media and links only to contributed commands', () => {
  const commands = new Set(manifest.contributes.commands.map((c: { command: string }) => c.command));
  const steps = manifest.contributes.walkthroughs.flatMap((w: { steps: unknown[] }) => w.steps) as { id: string; description: string; media: { markdown: string } }[];
  assert.ok(steps.length >= 4);
  for (const s of steps) {
    assert.ok(fs.existsSync(path.join(repoRoot, s.media.markdown)), `${s.id}: ${s.media.markdown}`);
    for (const [, id] of s.description.matchAll(/\(command:([\w.]+)\)/g)) assert.ok(commands.has(id), `${s.id} links to ${id}`);
  }
});

test('the sample model and its test set are packaged', () => {
  const ignore = fs.readFileSync(path.join(repoRoot, '.vscodeignore'), 'utf8');
  for (const f of ['samples/digits-cnn.onnx', 'samples/digits-test.npz', 'samples/README.md']) {
    assert.ok(fs.existsSync(path.join(repoRoot, f)), f);
    assert.ok(ignore.includes(`!${f}`), `${f} is in the VSIX`);
  }
});

test('files the manifest points at exist and are packaged: the recipe schema, the report icon', () => {
  const ignore = fs.readFileSync(path.join(repoRoot, '.vscodeignore'), 'utf8');
  for (const v of manifest.contributes.jsonValidation as { fileMatch: string; url: string }[]) {
    const file = path.normalize(v.url).replace(/^\.\//, '');
    assert.ok(fs.existsSync(path.join(repoRoot, file)), v.url);
    assert.ok(ignore.includes(`!${file}`), `${file} is in the VSIX`);
  }
  assert.ok(fs.existsSync(path.join(repoRoot, 'media/icon.svg')) && ignore.includes('!media/**'));
  const commands = new Set(manifest.contributes.commands.map((c: { command: string }) => c.command));
  for (const items of Object.values(manifest.contributes.menus) as { command: string }[][]) for (const m of items) assert.ok(commands.has(m.command), `menu item ${m.command} is a contributed command`);
});
