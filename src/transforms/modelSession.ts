/**
 * An open model being edited: the current state, its place in the edit history (editHistory.ts:
 * the steps that produced it, and whether the file on disk holds it), and edits that know how to
 * undo and redo themselves (the shape VS Code's custom editor undo stack wants). Pure: the editor
 * host wraps it; tests drive it directly.
 */
import * as fs from 'node:fs';
import { openModel } from '../core/onnx/model';
import { saveModel, type SaveResult } from '../core/onnx/writeModel';
import { applyStep, stateOf, type Edit } from './apply';
import type { RecipeStep } from './recipe';
import { EditHistory } from './editHistory';
import type { ModelState, TransformServices } from './transform';

export interface SessionEdit extends Edit {
  undo(): void;
  redo(): void;
}

export class ModelSession {
  /** Which revision is shown and which one the file holds. */
  private readonly history: EditHistory;
  /** Bumped on every change, so a caller can tell whether a result it computed is still current. */
  version = 0;
  private listeners: ((session: ModelSession) => void)[] = [];

  private constructor(
    readonly file: string,
    private current: ModelState,
    /** File size when opened, for reports. */
    public fileBytes: number,
    onDisk = true,
  ) {
    this.history = new EditHistory(onDisk);
  }

  static open(file: string): ModelSession {
    const model = openModel(file);
    return new ModelSession(model.file!, stateOf(model.proto, model.dir), model.bytes.length);
  }

  /**
   * Replays steps on the file (restoring a backup), or on `base`, a copy of a model the file
   * does not hold (then the session is not on disk: its first save writes it).
   */
  static async restore(file: string, steps: readonly RecipeStep[], services?: TransformServices, base?: string): Promise<ModelSession> {
    let session = ModelSession.open(file);
    if (base) {
      const model = openModel(base);
      session = new ModelSession(session.file, stateOf(model.proto, model.dir), fs.statSync(file).size, false);
    }
    for (const step of steps) await session.apply(step, undefined, services);
    return session;
  }

  get state(): ModelState {
    return this.current;
  }

  /** Steps from the model as read from a file (opened, reloaded or restored) to the one shown. */
  get steps(): readonly RecipeStep[] {
    return this.history.stepsFromStart();
  }

  /** Whether the model shown is exactly the file on disk (not merely "no steps": undo past a save is not). */
  get onDisk(): boolean {
    return this.history.onDisk;
  }

  /** Steps that rebuild the model shown from the file on disk; undefined when the file holds none of its ancestors. */
  get unsavedSteps(): readonly RecipeStep[] | undefined {
    return this.history.unsavedSteps();
  }

  /** How many of `steps` the file on disk holds (undefined: the file holds none of them, e.g. after undo past a save). */
  get savedSteps(): number | undefined {
    return this.history.savedDepth();
  }

  /** The file changed on disk and the edits were kept: the file no longer holds any state of ours. */
  forgetSaved(): void {
    this.history.forgetSaved();
  }

  onDidChange(listener: (session: ModelSession) => void): { dispose(): void } {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  }

  private set(state: ModelState, revision = this.history.current): void {
    this.current = state;
    this.history.moveTo(revision);
    this.version++;
    for (const l of this.listeners) l(this);
  }

  /** Applies a step to the current model; the edit's undo/redo switch between the two states. */
  async apply(step: RecipeStep, signal?: AbortSignal, services?: TransformServices): Promise<SessionEdit> {
    return this.commit(await this.compute(step, signal, services), step);
  }

  /** Works out a step on the current model without making it current, so a caller can look before it commits. */
  compute(step: RecipeStep, signal?: AbortSignal, services?: TransformServices): Promise<Edit> {
    return applyStep(this.current, step, signal, services);
  }

  /** Makes a computed edit current; it must have been computed on the current model. */
  commit(edit: Edit, step: RecipeStep): SessionEdit {
    if (edit.before !== this.current) throw new Error('the model changed while the step was computed');
    const before = this.history.current;
    const after = this.history.child(step);
    this.set(edit.after, after);
    return {
      ...edit,
      undo: () => this.set(edit.before, before),
      redo: () => this.set(edit.after, after),
    };
  }

  /** Writes the current model (atomically: the file is replaced only once the new one is complete). */
  async save(destination = this.file): Promise<SaveResult> {
    const result = await saveModel({ ...this.current, file: this.file }, destination);
    if (destination === this.file) {
      // A save that rewrote a side file moves tensors: continue from the file as written.
      const reopened = openModel(this.file);
      this.fileBytes = reopened.bytes.length;
      this.history.markSaved();
      this.set(stateOf(reopened.proto, reopened.dir));
    }
    return result;
  }

  /**
   * Back to the file on disk: to the revision it holds (VS Code's undo stack moves to its save
   * point too), or, when the file changed under us (`changed`) or holds none, a fresh start.
   */
  revert(changed = false): void {
    const model = openModel(this.file);
    this.fileBytes = model.bytes.length;
    if (changed || !this.history.revertToSaved()) this.history.reload();
    this.set(stateOf(model.proto, model.dir));
  }
}
