/**
 * Which model state a document shows and which one the file on disk holds: a tree of revisions,
 * each the step from its parent. Undo and redo move between revisions; a save marks the current
 * one. "No steps in effect" is not "as on disk": after apply, save, undo, the document shows the
 * model as opened while the file holds the edited one (hexeditor keeps an unsaved-edit index for
 * the same reason). Pure.
 */
import type { RecipeStep } from './recipe';

export interface Revision {
  /** The revision this one's step was applied to; none for a model read from a file. */
  readonly parent?: Revision;
  readonly step?: RecipeStep;
}

export class EditHistory {
  private now: Revision = {};
  /** The revision the file on disk holds; undefined when it holds none of ours. */
  private saved: Revision | undefined;

  /** `onDisk`: the first revision is the file as it is on disk (false for a model rebuilt from elsewhere). */
  constructor(onDisk = true) {
    this.saved = onDisk ? this.now : undefined;
  }

  get current(): Revision {
    return this.now;
  }

  /** A revision for `step` applied to the current one (not made current). */
  child(step: RecipeStep): Revision {
    return { parent: this.now, step };
  }

  moveTo(revision: Revision): void {
    this.now = revision;
  }

  /** The current revision is now what the file holds. */
  markSaved(): void {
    this.saved = this.now;
  }

  /** The file changed under us and the edits were kept: it holds none of our revisions. */
  forgetSaved(): void {
    this.saved = undefined;
  }

  /** The model was read from the file again (a reload after someone else's change): a new start. */
  reload(): void {
    this.now = {};
    this.saved = this.now;
  }

  /** Back to the revision the file holds; false when it holds none (then reload). */
  revertToSaved(): boolean {
    if (!this.saved) return false;
    this.now = this.saved;
    return true;
  }

  /** Whether the model shown is exactly the file on disk. */
  get onDisk(): boolean {
    return this.saved === this.now;
  }

  /** Steps from the revision read from a file (opened, reloaded or restored) to the current one. */
  stepsFromStart(): RecipeStep[] {
    return this.pathTo(undefined) ?? [];
  }

  /**
   * Steps that rebuild the current revision from the file on disk, or undefined when the file
   * holds none of its ancestors (undo past a save, a save of another branch, a change on disk).
   */
  unsavedSteps(): RecipeStep[] | undefined {
    return this.saved ? this.pathTo(this.saved) : undefined;
  }

  /** How many of `stepsFromStart()` the file holds, when it holds the current revision or an ancestor. */
  savedDepth(): number | undefined {
    const unsaved = this.unsavedSteps();
    return unsaved && this.stepsFromStart().length - unsaved.length;
  }

  /** Steps from `ancestor` (undefined: the start) down to the current revision, if it is one. */
  private pathTo(ancestor: Revision | undefined): RecipeStep[] | undefined {
    const steps: RecipeStep[] = [];
    for (let r: Revision | undefined = this.now; r !== ancestor; r = r.parent) {
      if (!r) return undefined;
      if (r.step) steps.push(r.step);
    }
    return steps.reverse();
  }
}
