/**
 * An open model being edited: the current state, the recipe steps that produced it from the
 * file, and edits that know how to undo and redo themselves (the shape VS Code's custom editor
 * undo stack wants). Pure: the editor host wraps it; tests drive it directly.
 */
import { openModel } from '../core/onnx/model';
import { saveModel, type SaveResult } from '../core/onnx/writeModel';
import { applyStep, stateOf, type Edit } from './apply';
import type { RecipeStep } from './recipe';
import type { ModelState, TransformServices } from './transform';

export interface SessionEdit extends Edit {
  undo(): void;
  redo(): void;
}

export class ModelSession {
  /** Steps applied since the file was opened (or last reverted), in order: what a backup stores. */
  private stepsInEffect: readonly RecipeStep[] = [];
  /** Bumped on every change, so a caller can tell whether a result it computed is still current. */
  version = 0;
  private listeners: ((session: ModelSession) => void)[] = [];

  private constructor(
    readonly file: string,
    private current: ModelState,
    /** File size when opened, for reports. */
    public fileBytes: number,
  ) {}

  static open(file: string): ModelSession {
    const model = openModel(file);
    return new ModelSession(model.file!, stateOf(model.proto, model.dir), model.bytes.length);
  }

  /** Reopens the file and replays steps (restoring a backup). */
  static async restore(file: string, steps: readonly RecipeStep[], services?: TransformServices): Promise<ModelSession> {
    const session = ModelSession.open(file);
    for (const step of steps) await session.apply(step, undefined, services);
    return session;
  }

  get state(): ModelState {
    return this.current;
  }

  get steps(): readonly RecipeStep[] {
    return this.stepsInEffect;
  }

  onDidChange(listener: (session: ModelSession) => void): { dispose(): void } {
    this.listeners.push(listener);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== listener)) };
  }

  private set(state: ModelState, steps: readonly RecipeStep[]): void {
    this.current = state;
    this.stepsInEffect = steps;
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
    const stepsBefore = this.stepsInEffect;
    const stepsAfter = [...stepsBefore, step];
    this.set(edit.after, stepsAfter);
    return {
      ...edit,
      undo: () => this.set(edit.before, stepsBefore),
      redo: () => this.set(edit.after, stepsAfter),
    };
  }

  /** Writes the current model (atomically: the file is replaced only once the new one is complete). */
  async save(destination = this.file): Promise<SaveResult> {
    const result = await saveModel(this.current, destination);
    if (destination === this.file) {
      // A save that rewrote a side file moves tensors: continue from the file as written.
      const reopened = openModel(this.file);
      this.fileBytes = reopened.bytes.length;
      this.set(stateOf(reopened.proto, reopened.dir), []);
    }
    return result;
  }

  /** Back to the file on disk. */
  revert(): void {
    const model = openModel(this.file);
    this.fileBytes = model.bytes.length;
    this.set(stateOf(model.proto, model.dir), []);
  }
}
