/**
 * Glob matching (`*` any run, `?` one character), ignoring case, without building a regular
 * expression: a pattern from a recipe can be any length (a RegExp of 100,000 stars is refused by
 * V8 and backtracks exponentially); this greedy matcher is linear in most cases and
 * O(pattern × name) at worst.
 */
export type Glob = (text: string) => boolean;

export function compileGlob(pattern: string): Glob {
  // Runs of stars are one star; lower-casing once keeps the matcher simple.
  const p = pattern.toLowerCase().replace(/\*+/g, '*');
  return (text) => globMatch(p, text.toLowerCase());
}

function globMatch(p: string, t: string): boolean {
  let pi = 0;
  let ti = 0;
  let star = -1;
  let resume = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti])) {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = ti;
    } else if (star >= 0) {
      // Let the last star take one more character and retry from there.
      pi = star + 1;
      ti = ++resume;
    } else return false;
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
