// `npm run package`: the VSIX we ship (and the UI tests install), out/onnx-compress-linux-x64.vsix.
// vsce does not create the output folder, so a fresh clone needs out/ made first.
// Relative links in README.md (docs/, the screenshot) are kept as they are: vsce can only rewrite
// them to a repository URL, and this package declares none.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const VSIX = join(root, 'out/onnx-compress-linux-x64.vsix');

/** Packages the built extension (run `npm run build` first) into VSIX; returns its path. */
export function packageVsix({ quiet = false } = {}) {
  mkdirSync(dirname(VSIX), { recursive: true });
  execFileSync(
    process.execPath,
    [join(root, 'node_modules/@vscode/vsce/vsce'), 'package', '--target', 'linux-x64', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '-o', VSIX],
    { cwd: root, stdio: quiet ? 'ignore' : 'inherit' },
  );
  return VSIX;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) packageVsix();
