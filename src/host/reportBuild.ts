/**
 * The Compression Report of an open document: the model as opened (the session's baseline,
 * kept across saves), the file as last saved when this session saved it, the model shown, the
 * edits since opened and the accuracy checks. No vscode import.
 */
import * as path from 'node:path';
import type { CompressionReport } from '../report/compressionReport';
import type { EditorSession } from './editorSession';
import { stateFigures } from './reportFigures';

export async function buildReport(session: EditorSession, signal?: AbortSignal): Promise<CompressionReport> {
  const { document, figures } = session;
  const after = await stateFigures(document.session.state, signal);
  return {
    model: path.basename(document.session.file),
    generated: new Date().toISOString(),
    before: await figures.opened(),
    ...(session.savedInSession ? { saved: await figures.onDisk(signal) } : {}),
    after,
    // Reports carry the figures; the value histograms are for the editor's overlay only.
    edits: document.edits.map((e) => ({ ...e, changes: e.changes.map(({ histogram: _, ...row }) => row) })),
    accuracy: [...session.checks],
  };
}
