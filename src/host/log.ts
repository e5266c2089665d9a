/** The extension's log (Output → ONNX Compress): what was refused or ignored, so it can be found later. */
import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

export function useLog(context: vscode.ExtensionContext): void {
  channel = vscode.window.createOutputChannel('ONNX Compress', { log: true });
  context.subscriptions.push(channel);
}

/** A webview message that is not one of ours: ignored, and said here (cut, in case it is huge). */
export function logIgnoredMessage(view: string, message: unknown): void {
  let text: string;
  try {
    text = JSON.stringify(message) ?? String(message);
  } catch {
    text = String(message);
  }
  channel?.warn(`${view}: ignored a message that is not one of ours: ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`);
}
