/**
 * The editor's list of edits since the model was opened, and which of them the file on disk
 * holds (a save keeps the list: the edits are still what made this model). Pure.
 */
import type { EditView } from '../../shared/protocol';
import { humanBytes, plural } from '../../shared/format';

export interface EditsList {
  readonly hint: string | null;
  readonly items: readonly { readonly text: string; readonly saved: boolean; readonly notes: readonly string[] }[];
}

/** `savedEdits`: how many of the edits the file holds; null when it holds none of them. */
export function editsList(edits: readonly EditView[], savedEdits: number | null): EditsList {
  const items = edits.map((e, i) => ({
    text:
      `${e.label}: ${plural(e.layers.length, 'layer')}, weights ${humanBytes(e.bytesBefore)} → ${humanBytes(e.bytesAfter)}` +
      `${e.worstSqnrDb !== null ? `, worst weight SQNR ${e.worstSqnrDb.toFixed(1)} dB` : ''}${e.skipped ? `, ${e.skipped} skipped` : ''}` +
      (savedEdits !== null && i < savedEdits ? ' (saved)' : ''),
    saved: savedEdits !== null && i < savedEdits,
    notes: e.notes ?? [],
  }));
  const hint =
    savedEdits === null
      ? 'The file on disk holds a model these edits do not lead to (an edit undone after saving, or a change on disk): save to write this one.'
      : edits.length === 0
        ? 'No edits yet: choose a transform above.'
        : savedEdits === edits.length
          ? 'All edits are saved.'
          : null;
  return { hint, items };
}
