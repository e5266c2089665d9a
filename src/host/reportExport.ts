/** Writes a document's Compression Report as Markdown, self-contained HTML or JSON; asks for the format and place unless given (tests give them). */
import * as vscode from 'vscode';
import { reportHtml } from '../report/reportHtml';
import { reportMarkdown } from '../report/reportMarkdown';
import type { ReportFormat } from '../shared/protocol';
import type { EditorSession } from './editorSession';
import { buildReport } from './reportBuild';

const EXTENSIONS: Record<ReportFormat, string> = { markdown: 'md', html: 'html', json: 'json' };

export async function exportReport(session: EditorSession, format?: ReportFormat, target?: vscode.Uri): Promise<vscode.Uri | undefined> {
  format ??= (
    await vscode.window.showQuickPick(
      (Object.keys(EXTENSIONS) as ReportFormat[]).map((f) => ({ label: f === 'json' ? 'JSON' : f === 'html' ? 'HTML' : 'Markdown', format: f })),
      { title: 'Export the compression report as' },
    )
  )?.format;
  if (!format) return undefined;
  const base = session.document.session.file.replace(/\.onnx$/i, '');
  target ??= await vscode.window.showSaveDialog({ defaultUri: vscode.Uri.file(`${base}.report.${EXTENSIONS[format]}`), filters: { [format]: [EXTENSIONS[format]] } });
  if (!target) return undefined;
  const report = await buildReport(session);
  const text = format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : format === 'html' ? reportHtml(report) : reportMarkdown(report);
  await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(text));
  return target;
}
