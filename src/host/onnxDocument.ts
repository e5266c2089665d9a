/**
 * The custom editor's document: a ModelSession plus the list of edits in effect, with save,
 * save as, revert and backup. Backups hold the recipe steps, not the model: restoring reopens
 * the file and replays them.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import { ModelSession, type SessionEdit } from '../transforms/modelSession';
import { parseStep, stepToJson, type RecipeStep } from '../transforms/recipe';
import type { EditView } from '../shared/protocol';
import { editView } from '../report/editView';
import { noOpNotice } from '../transforms/noOp';

interface Backup {
  readonly file: string;
  readonly steps: Record<string, unknown>[];
}


function stamp(file: string): string {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st ? `${st.size}:${st.mtimeMs}` : 'missing';
}

export class OnnxDocument implements vscode.CustomDocument {
  /** Views of the edits in effect, oldest first (kept in step with the session's steps). */
  edits: EditView[] = [];
  /** True while we write the file ourselves, so the watcher does not take our save for someone else's. */
  ownWriteInProgress = false;
  private diskStamp: string;
  private readonly disposeListeners: (() => void)[] = [];

  private constructor(
    readonly uri: vscode.Uri,
    readonly session: ModelSession,
  ) {
    this.diskStamp = stamp(uri.fsPath);
  }

  /** Whether the file differs (size or modification time) from the version we read or wrote last. */
  changedOnDisk(): boolean {
    return stamp(this.uri.fsPath) !== this.diskStamp;
  }

  /** Keep editing over the new disk version (a later save overwrites it). */
  acceptDiskVersion(): void {
    this.diskStamp = stamp(this.uri.fsPath);
  }

  onDispose(listener: () => void): void {
    this.disposeListeners.push(listener);
  }

  static async create(uri: vscode.Uri, backupId: string | undefined): Promise<OnnxDocument> {
    if (backupId) {
      const backup = JSON.parse(await fs.promises.readFile(vscode.Uri.parse(backupId).fsPath, 'utf8')) as Backup;
      const steps: RecipeStep[] = backup.steps.map((s, i) => parseStep(s, `backup step ${i + 1}`));
      const session = await ModelSession.restore(uri.fsPath, steps);
      const doc = new OnnxDocument(uri, session);
      doc.edits = steps.map((s) => ({ label: `Restored: ${String(s.transform)}`, layers: [], bytesBefore: 0, bytesAfter: 0, worstSqnrDb: null, skipped: 0, changes: [] }));
      return doc;
    }
    return new OnnxDocument(uri, ModelSession.open(uri.fsPath));
  }

  /**
   * Applies a step; the returned edit keeps `edits` in step on undo and redo. A step that changed
   * no layer is not applied: `unchanged` says why, and there is nothing to undo.
   */
  async apply(step: RecipeStep, signal?: AbortSignal): Promise<{ edit: SessionEdit } | { unchanged: string }> {
    const computed = await this.session.compute(step, signal);
    const unchanged = noOpNotice(computed.label, computed.result);
    if (unchanged) return { unchanged };
    const edit = this.session.commit(computed, step);
    const view = editView(edit);
    const before = this.edits;
    const after = [...before, view];
    this.edits = after;
    return {
      edit: {
        ...edit,
        undo: () => {
          edit.undo();
          this.edits = before;
        },
        redo: () => {
          edit.redo();
          this.edits = after;
        },
      },
    };
  }

  async save(): Promise<void> {
    this.ownWriteInProgress = true;
    try {
      await this.session.save();
      this.diskStamp = stamp(this.uri.fsPath);
    } finally {
      this.ownWriteInProgress = false;
    }
    this.edits = [];
  }

  async saveAs(destination: vscode.Uri): Promise<void> {
    await this.session.save(destination.fsPath);
  }

  async revert(): Promise<void> {
    this.session.revert();
    this.diskStamp = stamp(this.uri.fsPath);
    this.edits = [];
  }

  async backup(destination: vscode.Uri): Promise<vscode.CustomDocumentBackup> {
    const backup: Backup = { file: this.uri.fsPath, steps: this.session.steps.map(stepToJson) };
    await fs.promises.mkdir(vscode.Uri.joinPath(destination, '..').fsPath, { recursive: true });
    await fs.promises.writeFile(destination.fsPath, JSON.stringify(backup));
    return { id: destination.toString(), delete: () => void fs.promises.rm(destination.fsPath, { force: true }) };
  }

  dispose(): void {
    // The model's bytes are in memory and go with the session; only listeners to release.
    for (const l of this.disposeListeners) l();
  }
}
