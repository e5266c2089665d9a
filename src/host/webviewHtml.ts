/** The HTML shell shared by our webviews: a strict CSP with a nonce, local script and style only. */
import * as crypto from 'node:crypto';
import type * as vscode from 'vscode';

/** `loading` is shown from the first frame until the script draws the page (an 88 MB model takes seconds to parse). */
export function webviewHtml(webview: vscode.Webview, page: { script: vscode.Uri; style: vscode.Uri; title: string; loading?: string }): string {
  const nonce = crypto.randomBytes(16).toString('base64');
  const csp = [
    "default-src 'none'",
    `img-src ${webview.cspSource} data:`,
    `style-src ${webview.cspSource}`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link href="${webview.asWebviewUri(page.style)}" rel="stylesheet">
<title>${page.title}</title>
</head>
<body>
<div id="app" role="application" aria-label="${page.title}">${page.loading ? `<p class="loading" role="status">${page.loading}</p>` : ''}</div>
<script nonce="${nonce}" src="${webview.asWebviewUri(page.script)}"></script>
</body>
</html>`;
}
