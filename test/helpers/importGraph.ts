/**
 * The import graph of src/: each .ts file and the src files it imports, read from its
 * `import … from '…'` and `export … from '…'` lines (type-only ones too: a type circle is still
 * two files that cannot be understood apart). Packages and `node:*` are left out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const FROM = /^\s*(?:import|export)\b[^;]*?\bfrom\s*'([^']+)'/gms;
const BARE = /^\s*import\s*'([^']+)'/gm;

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sourceFiles(p) : d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Module specifiers a file imports or re-exports from. */
export function importsOf(text: string): string[] {
  return [...text.matchAll(FROM), ...text.matchAll(BARE)].map((m) => m[1]);
}

function resolve(from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, 'index.ts')].find((f) => fs.existsSync(f));
}

/** File → the src files it imports, paths relative to `root` with forward slashes. */
export function importGraph(root: string, dir = 'src'): Map<string, string[]> {
  const rel = (f: string) => path.relative(root, f).split(path.sep).join('/');
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(path.join(root, dir))) {
    const targets = importsOf(fs.readFileSync(file, 'utf8')).map((s) => resolve(file, s)).filter((f): f is string => f !== undefined);
    graph.set(rel(file), [...new Set(targets.map(rel))]);
  }
  return graph;
}

/** Every strongly connected group of more than one file (or a file importing itself): the circles. */
export function importCircles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const group: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      group.push(w);
    } while (w !== v);
    if (group.length > 1 || (graph.get(v) ?? []).includes(v)) circles.push(group.sort());
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return circles;
}
