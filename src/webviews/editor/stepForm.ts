/**
 * The compress form: a transform, its parameters (filled from a preset or the user's default
 * settings), and a live preview of the weight bytes and the worst weight SQNR it would give on
 * the selection, estimated by the host from the analysis before anything is applied.
 */
import type { StepPreview } from '../../analyzers/stepPreview';
import { humanBytes } from '../../shared/format';
import { el } from '../dom';
import { presetsFor } from '../../shared/presets';
import { TRANSFORMS, TRANSFORM_NAMES, type TransformName } from '../../shared/stepSpec';
import { formFields, formStep, formValues, givenBy, type Field } from './formFields';

type Step = Record<string, unknown>;

export interface StepFormHost {
  /** Asks for the preview of this step on the target (the selection, or all); the answer comes to showPreview. */
  requestPreview(step: Step): void;
  /** How the apply button names the target ("all layers", "3 selected layers"). */
  targetLabel(): string;
  apply(step: Step): void;
  /** Stops the step being applied (the host says when it has stopped). */
  cancel(): void;
  /** Asks the host which data to calibrate on (it answers with a new calibration text). */
  chooseCalibration(): void;
}

export class StepForm {
  readonly element = el('form', { class: 'action', 'aria-label': 'Compress' });
  private readonly transform = el('select', { 'aria-label': 'Transform' });
  private readonly preset = el('select', { 'aria-label': 'Preset' });
  private readonly fieldsBox = el('span', { class: 'fields' });
  private readonly applyButton = el('button', { type: 'submit' });
  /** Shown while a step is applied: the progress lives in the editor, not in a notification over it. */
  private readonly cancelButton = el('button', { type: 'button', class: 'cancel', hidden: '' }, 'Cancel');
  readonly preview = el('div', { class: 'preview', role: 'status', 'aria-live': 'polite' });
  /** What the preset, the user's default or the user gave; the shown values add the specification's defaults. */
  private given: Step = {};
  private values: Step = formValues('quantize', {});
  private isBusy = false;
  /** Why Apply would change nothing (from the last preview), or undefined. */
  private blocked: string | undefined;
  private defaults: Partial<Record<TransformName, Step>> = {};
  /** What calibration runs on (the host says), shown when the step calibrates. */
  private calibration = '';

  constructor(private readonly host: StepFormHost) {
    for (const t of TRANSFORM_NAMES) this.transform.append(el('option', { value: t, title: TRANSFORMS[t].help }, TRANSFORMS[t].label));
    this.transform.addEventListener('change', () => this.reset());
    this.preset.addEventListener('change', () => {
      const chosen = presetsFor(this.transform.value)[Number(this.preset.value)];
      if (chosen) this.give(givenBy(chosen.step));
      this.renderFields();
    });
    this.cancelButton.addEventListener('click', () => this.host.cancel());
    this.element.append(this.transform, this.preset, this.fieldsBox, this.applyButton, this.cancelButton);
    this.element.addEventListener('submit', (e) => {
      e.preventDefault();
      this.host.apply(this.step());
    });
    this.reset();
  }

  private get name(): TransformName {
    return this.transform.value as TransformName;
  }

  /** The user's defaults (settings `onnxCompress.defaults.*`): the starting values of each transform. */
  setDefaults(defaults: Partial<Record<TransformName, Step>>): void {
    this.defaults = defaults;
    this.reset();
  }

  set busy(on: boolean) {
    this.isBusy = on;
    this.cancelButton.hidden = !on;
    this.updateButton();
  }

  private updateButton(): void {
    this.applyButton.disabled = this.isBusy || this.blocked !== undefined;
    this.applyButton.title = this.blocked ? `Nothing to apply: ${this.blocked}` : '';
  }

  /** The recipe step the fields describe, without its layers. */
  step(): Step {
    return formStep(this.name, this.values);
  }

  private give(given: Step): void {
    this.given = given;
    this.values = formValues(this.name, given);
  }

  private reset(): void {
    this.give(givenBy(this.defaults[this.name] ?? {}));
    const presets = presetsFor(this.name);
    this.preset.replaceChildren(el('option', { value: '' }, this.defaults[this.name] ? 'Your default' : 'Preset…'), ...presets.map((p, i) => el('option', { value: String(i) }, p.label)));
    this.renderFields();
  }

  /** What GPTQ and static quantization calibrate on in this editor. */
  setCalibration(text: string): void {
    if (text === this.calibration) return;
    this.calibration = text;
    this.renderFields();
  }

  private renderFields(): void {
    const v = this.values;
    const inputs: HTMLElement[] = formFields(this.name).filter((f) => !f.when || f.when(v)).map((f) => this.input(f));
    if (this.name === 'quantize' && (v.method === 'gptq' || v.mode === 'static') && this.calibration) {
      const choose = el('button', { type: 'button', class: 'link', title: 'Choose the data GPTQ and static quantization calibrate on' }, 'Choose…');
      choose.addEventListener('click', () => this.host.chooseCalibration());
      inputs.push(el('span', { class: 'hint calibration' }, `Calibrates on ${this.calibration}. `, choose));
    }
    this.fieldsBox.replaceChildren(...inputs);
    this.refresh();
  }

  private input(f: Field): HTMLElement {
    const current = this.values[f.key];
    let control: HTMLInputElement | HTMLSelectElement;
    if (f.choices === 'boolean') {
      control = el('input', { type: 'checkbox' });
      control.checked = current === true;
      control.addEventListener('change', () => this.set(f, (control as HTMLInputElement).checked));
    } else if (f.choices) {
      const numbers = typeof f.choices[0] === 'number';
      // A value from a setting or a recipe that the list does not offer is still shown.
      const choices = (f.choices as readonly unknown[]).map(String);
      if (current !== undefined && !choices.includes(String(current))) choices.push(String(current));
      control = el('select', {}, ...choices.map((c) => el('option', { value: c }, c)));
      control.value = String(current);
      control.addEventListener('change', () => this.set(f, numbers ? Number(control.value) : control.value));
    } else {
      control = el('input', { type: 'number', min: String(f.min), max: String(f.max), step: String(f.step), required: '' });
      control.value = String(current);
      control.addEventListener('input', () => {
        const n = Number(control.value);
        if (control.value !== '' && Number.isFinite(n)) this.set(f, n, false);
      });
    }
    return el('label', { title: f.help }, `${f.label} `, control);
  }

  private set(f: Field, value: unknown, rerender = true): void {
    this.give({ ...this.given, [f.key]: value });
    this.preset.value = '';
    if (rerender && formFields(this.name).some((x) => x.when)) this.renderFields();
    else this.refresh();
  }

  /** Updates the apply button's target and the preview (call when the selection or the analysis changes). */
  refresh(): void {
    this.applyButton.textContent = `Apply to ${this.host.targetLabel()}`;
    this.preview.setAttribute('aria-busy', 'true');
    this.host.requestPreview(this.step());
  }

  /**
   * Shows the host's estimate for the step last asked for. `cannot` says why the step can take no
   * target layer; `presets` the same for each preset (null where it applies): those are disabled.
   */
  showPreview(p: StepPreview, cannot: string | undefined, presets: readonly (string | null)[]): void {
    this.preview.removeAttribute('aria-busy');
    this.showPresets(presets);
    // Nothing would change: say why and keep Apply from making an edit that does nothing.
    this.blocked = cannot ?? (p.layers === 0 ? 'by the estimate, these settings leave every target layer as it is (no weight would get smaller)' : undefined);
    this.updateButton();
    if (this.blocked) {
      this.preview.textContent = `Nothing to apply: ${this.blocked}.`;
      return;
    }
    const change = p.bytesBefore ? ((p.bytesAfter - p.bytesBefore) / p.bytesBefore) * 100 : 0;
    const sqnr =
      p.worstSqnrDb === null
        ? (p.note ?? 'no error estimate')
        : `worst weight SQNR ${p.sqnrKind === 'lower bound' ? '≥ ' : p.sqnrKind === 'upper bound' ? '≤ ' : '≈ '}${Number.isFinite(p.worstSqnrDb) ? `${p.worstSqnrDb.toFixed(1)} dB` : 'exact'}`;
    const pending = p.unanalyzed ? ` (${p.unanalyzed} layer${p.unanalyzed > 1 ? 's' : ''} not analyzed yet)` : '';
    const about = p.bytesExact ? '' : '≈ ';
    this.preview.textContent = `Preview: ${p.layers} layer${p.layers > 1 ? 's' : ''}, weights ${humanBytes(p.bytesBefore)} → ${about}${humanBytes(Math.round(p.bytesAfter))} (${change >= 0 ? '+' : ''}${change.toFixed(0)}%), ${sqnr}${pending}.`;
  }

  private showPresets(reasons: readonly (string | null)[]): void {
    presetsFor(this.name).forEach((p, i) => {
      const option = this.preset.querySelector<HTMLOptionElement>(`option[value="${i}"]`);
      if (!option) return;
      const why = reasons[i] ?? null;
      option.disabled = why !== null;
      option.title = why ?? '';
      option.textContent = why ? `${p.label} (cannot apply: ${why})` : p.label;
    });
  }
}

