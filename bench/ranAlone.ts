/**
 * Whether a bench file was run by its own name (`node dist/bench/NAME.js`). Bundled into
 * bench.js, every file's `module` is the bundle's, so `require.main === module` would run every
 * imported file's own main too.
 */
import * as path from 'node:path';

export function ranAlone(name: string): boolean {
  return path.basename(process.argv[1] ?? '') === `${name}.js`;
}
