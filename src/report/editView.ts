/** An applied edit as the editor lists it and the Compression Report shows it. */
import type { Edit } from '../transforms/apply';
import type { EditView, TensorChangeRow } from './compressionReport';

export function editView(edit: Edit): EditView {
  const changes = edit.result.changed.flatMap((c) =>
    c.tensors.map(
      (t): TensorChangeRow => ({
        layer: c.layer,
        opType: c.opType,
        tensor: t.tensor,
        bytesBefore: t.bytesBefore,
        bytesAfter: t.bytesAfter,
        sqnrDb: typeof t.sqnrDb === 'number' ? t.sqnrDb : null,
        maxError: t.maxError ?? null,
        histogram: t.histogram,
      }),
    ),
  );
  const finite = changes.map((c) => c.sqnrDb).filter((s): s is number => s !== null);
  return {
    label: edit.label,
    layers: edit.result.changed.map((c) => c.layer),
    bytesBefore: edit.result.bytesBefore,
    bytesAfter: edit.result.bytesAfter,
    worstSqnrDb: finite.length ? finite.reduce((a, b) => Math.min(a, b)) : null,
    skipped: edit.result.skipped.length,
    changes,
    notes: edit.result.notes,
  };
}
