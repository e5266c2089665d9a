/**
 * "did you mean" for names a user typed: the known names nearest by edit distance (letters
 * inserted, deleted, replaced or swapped; case ignored), close enough to be a typo.
 */

/** Optimal-string-alignment distance: Levenshtein plus adjacent swaps ("qunatize"). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    rows.push([i]);
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        rows[0].push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2][j - 2] + 1);
      rows[i].push(d);
    }
  }
  return rows[a.length][b.length];
}

/** Up to `max` known names within typo distance of `word`, nearest first (ties in the given order). */
export function closest(word: string, known: Iterable<string>, max = 3): string[] {
  const w = word.toLowerCase();
  // A third of the word's length, at least 2 (1 for words of three letters or fewer, where 2 would match almost anything):
  // "--jsno" finds --json, "batch" does not find "bias".
  const limit = w.length <= 3 ? 1 : Math.max(2, Math.floor(w.length / 3));
  const found: { name: string; d: number }[] = [];
  for (const name of known) {
    if (Math.abs(name.length - w.length) > limit) continue;
    const d = editDistance(w, name.toLowerCase());
    if (d <= limit) found.push({ name, d });
  }
  return found.sort((x, y) => x.d - y.d).slice(0, max).map((f) => f.name);
}

/** " (did you mean 'x'?)", " (did you mean 'x' or 'y'?)", or '' when nothing is close. */
export function didYouMean(word: string, known: Iterable<string>, max = 3): string {
  const names = closest(word, known, max).map((n) => `'${n}'`);
  if (!names.length) return '';
  return ` (did you mean ${names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`}?)`;
}
