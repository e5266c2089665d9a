/**
 * The layer table's layout, pure: names shortened in the middle to fit their column, column
 * widths kept within what their headers need, and the grid template the header and rows share.
 */

/**
 * `text` if it fits in `maxWidth`, else its start and end around an ellipsis, as much of both as
 * fits (a layer's path and its last part are what tell layers apart). `measure` gives a string's
 * width (the canvas's in the webview; length in tests). Code points are never split.
 */
export function shortenMiddle(text: string, maxWidth: number, measure: (s: string) => number): string {
  if (measure(text) <= maxWidth) return text;
  const chars = Array.from(text);
  const cut = (keep: number): string => {
    const tail = Math.floor(keep / 2);
    return `${chars.slice(0, keep - tail).join('')}…${tail ? chars.slice(chars.length - tail).join('') : ''}`;
  };
  // The most characters kept that still fit: binary search (widths grow with what is kept).
  let lo = 0;
  let hi = chars.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (measure(cut(mid)) <= maxWidth) lo = mid;
    else hi = mid - 1;
  }
  return cut(lo);
}

/** A column's width: the one asked for (a drag, a remembered width, the default), never under what its header needs. */
export function columnWidth(asked: number | undefined, fallback: number, least: number): number {
  const w = typeof asked === 'number' && Number.isFinite(asked) ? asked : fallback;
  return Math.round(Math.max(least, w));
}

/** The grid template: the first column takes the room left over (at least its width), the others their widths. */
export function gridTemplate(widths: readonly number[]): string {
  return widths.map((w, i) => (i === 0 ? `minmax(${w}px, 1fr)` : `${w}px`)).join(' ');
}

/**
 * Sorting values that are missing (not analyzed yet, not computed for this layer) go last
 * whichever way the column is sorted; the others compare as numbers or, if either is text, as text.
 */
export function compareForSort(x: number | string | null | undefined, y: number | string | null | undefined, descending: boolean): number {
  const missX = x === null || x === undefined || (typeof x === 'number' && Number.isNaN(x));
  const missY = y === null || y === undefined || (typeof y === 'number' && Number.isNaN(y));
  if (missX || missY) return missX === missY ? 0 : missX ? 1 : -1;
  const c = typeof x === 'string' || typeof y === 'string' ? String(x).localeCompare(String(y)) : x === y ? 0 : x < y ? -1 : 1;
  return descending ? -c : c;
}
