/**
 * The custom editor's document: a ModelSession plus the list of edits in effect, with save,
 * save as, revert and backup. Backups hold the recipe steps that rebuild the model from the
 * file; only when the file holds none of its ancestors (undo past a save, a change on disk kept
 * over) does a backup also write the model itself, as the base the steps start from.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ModelSession, type SessionEdit } from '../transforms/modelSession';
import { saveModel } from '../core/onnx/writeModel';
import type { TransformServices } from '../transforms/transform';
import { parseOwnStep, stepToJson, type RecipeStep } from '../transforms/recipe';
import type { EditView } from '../shared/protocol';
import { editView } from '../report/editView';
import { noOpNotice } from '../transforms/noOp';

interface Backup {
  readonly file: string;
  /** A copy of a model the file does not hold, which the steps start from (else the file). */
  readonly base?: string;
  readonly steps: Record<string, unknown>[];
}


function stamp(file: string): string {
  const st = fs.statSync(file, { throwIfNoEntry: false });
  return st ? `${st.size}:${st.mtimeMs}` : 'missing';
}

export class OnnxDocument implements vscode.CustomDocument {
  /** Views of the edits in effect since the model was opened, oldest first (kept in step with the session's steps). */
  edits: EditView[] = [];
  /** The edits as last saved: what a revert to the saved model shows. */
  private savedEdits: EditView[] = [];
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

  /** Keep editing over the new disk version (a later save overwrites it); the file holds none of our models now. */
  acceptDiskVersion(): void {
    this.diskStamp = stamp(this.uri.fsPath);
    this.session.forgetSaved();
  }

  onDispose(listener: () => void): void {
    this.disposeListeners.push(listener);
  }

  /** `services`: what replaying a backup's steps may need (calibration for static quantization). */
  static async create(uri: vscode.Uri, backupId: string | undefined, services?: TransformServices): Promise<OnnxDocument> {
    if (backupId) {
      const backup = JSON.parse(await fs.promises.readFile(vscode.Uri.parse(backupId).fsPath, 'utf8')) as Backup;
      const steps: RecipeStep[] = backup.steps.map((s, i) => parseOwnStep(s, `backup step ${i + 1}`));
      const session = await ModelSession.restore(uri.fsPath, steps, services, backup.base);
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
  async apply(step: RecipeStep, signal?: AbortSignal, services?: TransformServices): Promise<{ edit: SessionEdit } | { unchanged: string }> {
    const computed = await this.session.compute(step, signal, services);
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
    this.savedEdits = this.edits;
  }

  async saveAs(destination: vscode.Uri): Promise<void> {
    await this.session.save(destination.fsPath);
  }

  /** Back to the file: to the edits as saved when it still holds our save, else a fresh start from what it holds. */
  async revert(): Promise<void> {
    this.session.revert(this.changedOnDisk());
    this.diskStamp = stamp(this.uri.fsPath);
    this.edits = this.session.steps.length === this.savedEdits.length ? this.savedEdits : [];
    this.savedEdits = this.edits;
  }

  async backup(destination: vscode.Uri): Promise<vscode.CustomDocumentBackup> {
    const unsaved = this.session.unsavedSteps;
    const baseDir = `${destination.fsPath}.model`;
    let backup: Backup = { file: this.uri.fsPath, steps: (unsaved ?? []).map(stepToJson) };
    await fs.promises.mkdir(path.dirname(destination.fsPath), { recursive: true });
    if (!unsaved) {
      // No steps from the file rebuild this model: keep the model itself.
      const base = path.join(baseDir, path.basename(this.uri.fsPath));
      await fs.promises.mkdir(baseDir, { recursive: true });
      await saveModel(this.session.state, base);
      backup = { ...backup, base };
    }
    await fs.promises.writeFile(destination.fsPath, JSON.stringify(backup));
    return {
      id: destination.toString(),
      delete: () => {
        void fs.promises.rm(destination.fsPath, { force: true });
        void fs.promises.rm(baseDir, { recursive: true, force: true });
      },
    };
  }

  dispose(): void {
    // The model's bytes are in memory and go with the session; only listeners to release.
    for (const l of this.disposeListeners) l();
  }
}
