/**
 * The compress form: a transform, its parameters (filled from a preset or the user's default
 * settings), and a live preview of the weight bytes and the worst weight SQNR it would give on
 * the selection, estimated by the host from the analysis before anything is applied.
 */
import type { StepPreview } from '../../analyzers/stepPreview';
import { humanBytes } from '../../shared/format';
import { el } from '../dom';
import { PRESETS, presetsFor, type TransformName } from '../../shared/presets';

type Step = Record<string, unknown>;

interface Field {
  readonly key: string;
  readonly label: string;
  /** Choices for a select; a number input when absent; 'boolean' for a checkbox. */
  readonly choices?: readonly string[] | 'boolean';
  readonly min?: number;
  readonly max?: number;
  readonly step?: number;
  /** Shown only when this holds for the current values. */
  readonly when?: (values: Step) => boolean;
}

const FIELDS: Readonly<Record<TransformName, readonly Field[]>> = {
  quantize: [
    { key: 'dtype', label: 'Type', choices: ['int8', 'uint8', 'int4', 'uint4', 'float16'] },
    { key: 'granularity', label: 'Scales', choices: ['per-channel', 'per-tensor', 'block'], when: (v) => v.dtype !== 'float16' },
    { key: 'blockSize', label: 'Block', min: 16, max: 4096, step: 16, when: (v) => v.dtype !== 'float16' && v.granularity === 'block' },
    { key: 'symmetric', label: 'Symmetric', choices: 'boolean', when: (v) => v.dtype !== 'float16' },
  ],
  prune: [
    { key: 'pattern', label: 'Pattern', choices: ['unstructured', 'channel', '2:4', '1:4', '4:8'] },
    { key: 'sparsity', label: 'Sparsity', min: 0.05, max: 0.95, step: 0.05, when: (v) => v.pattern === 'unstructured' || v.pattern === 'channel' },
    { key: 'scope', label: 'Threshold', choices: ['layer', 'global'], when: (v) => v.pattern === 'unstructured' },
  ],
  cluster: [
    { key: 'clusters', label: 'Clusters', min: 2, max: 256, step: 1 },
    { key: 'keepZero', label: 'Keep zeros', choices: 'boolean' },
  ],
  factorize: [
    { key: 'by', label: 'By', choices: ['energy', 'rank'] },
    { key: 'energy', label: 'Energy kept', min: 0.5, max: 1, step: 0.005, when: (v) => v.by !== 'rank' },
    { key: 'rank', label: 'Rank', min: 1, max: 65536, step: 1, when: (v) => v.by === 'rank' },
  ],
};

/** Values the fields start from when neither a preset nor a setting gives one. */
const BASE: Readonly<Record<TransformName, Step>> = {
  quantize: { dtype: 'int8', granularity: 'per-channel', blockSize: 32, symmetric: true },
  prune: { pattern: 'unstructured', sparsity: 0.5, scope: 'layer' },
  cluster: { clusters: 16, keepZero: false },
  factorize: { by: 'energy', energy: 0.99, rank: 32 },
};

export interface StepFormHost {
  /** Asks for the preview of this step on the target (the selection, or all); the answer comes to showPreview. */
  requestPreview(step: Step): void;
  /** How the apply button names the target ("all layers", "3 selected layers"). */
  targetLabel(): string;
  apply(step: Step): void;
}

export class StepForm {
  readonly element = el('form', { class: 'action', 'aria-label': 'Compress' });
  private readonly transform = el('select', { 'aria-label': 'Transform' });
  private readonly preset = el('select', { 'aria-label': 'Preset' });
  private readonly fieldsBox = el('span', { class: 'fields' });
  private readonly applyButton = el('button', { type: 'submit' });
  readonly preview = el('div', { class: 'preview', role: 'status', 'aria-live': 'polite' });
  private values: Step = { ...BASE.quantize };
  private isBusy = false;
  /** Why Apply would change nothing (from the last preview), or undefined. */
  private blocked: string | undefined;
  private defaults: Partial<Record<TransformName, Step>> = {};

  constructor(private readonly host: StepFormHost) {
    for (const t of Object.keys(PRESETS)) this.transform.append(el('option', { value: t }, t[0].toUpperCase() + t.slice(1)));
    this.transform.addEventListener('change', () => this.reset());
    this.preset.addEventListener('change', () => {
      const chosen = presetsFor(this.transform.value)[Number(this.preset.value)];
      if (chosen) this.values = { ...BASE[this.name], ...fromStep(chosen.step) };
      this.renderFields();
    });
    this.element.append(this.transform, this.preset, this.fieldsBox, this.applyButton);
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
    this.updateButton();
  }

  private updateButton(): void {
    this.applyButton.disabled = this.isBusy || this.blocked !== undefined;
    this.applyButton.title = this.blocked ? `Nothing to apply: ${this.blocked}` : '';
  }

  /** The recipe step the fields describe, without its layers. */
  step(): Step {
    const v = this.values;
    const step: Step = { transform: this.name };
    for (const f of FIELDS[this.name]) if (f.key !== 'by' && (!f.when || f.when(v))) step[f.key] = v[f.key];
    return step;
  }

  private reset(): void {
    this.values = { ...BASE[this.name], ...fromStep(this.defaults[this.name] ?? {}) };
    const presets = presetsFor(this.name);
    this.preset.replaceChildren(el('option', { value: '' }, this.defaults[this.name] ? 'Your default' : 'Preset…'), ...presets.map((p, i) => el('option', { value: String(i) }, p.label)));
    this.renderFields();
  }

  private renderFields(): void {
    const v = this.values;
    const inputs = FIELDS[this.name].filter((f) => !f.when || f.when(v)).map((f) => this.input(f));
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
      control = el('select', {}, ...f.choices.map((c) => el('option', { value: c }, c)));
      control.value = String(current);
      control.addEventListener('change', () => this.set(f, control.value));
    } else {
      control = el('input', { type: 'number', min: String(f.min), max: String(f.max), step: String(f.step), required: '' });
      control.value = String(current);
      control.addEventListener('input', () => {
        const n = Number(control.value);
        if (control.value !== '' && Number.isFinite(n)) this.set(f, n, false);
      });
    }
    return el('label', {}, `${f.label} `, control);
  }

  private set(f: Field, value: unknown, rerender = true): void {
    this.values = { ...this.values, [f.key]: value };
    this.preset.value = '';
    if (rerender && FIELDS[this.name].some((x) => x.when)) this.renderFields();
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

/** Form values from a step (presets and settings speak recipe steps; the form has a 'by' switch for factorize). */
function fromStep(step: Readonly<Step>): Step {
  const rest = Object.fromEntries(Object.entries(step).filter(([k]) => k !== 'transform' && k !== 'layers'));
  return 'rank' in rest || 'energy' in rest ? { ...rest, by: typeof rest.rank === 'number' ? 'rank' : 'energy' } : rest;
}
