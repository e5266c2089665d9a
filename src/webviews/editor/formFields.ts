/**
 * The compress form's fields and values, read from the step specification: a field for each
 * parameter the form shows, and a 'by' switch where exactly one of two parameters is given
 * (factorize's energy or rank). No DOM here, so a test can hold the form's starting values
 * against the parser's defaults.
 */
import { TRANSFORMS, defaultOf, type ParamSpec, type StepValues, type TransformName } from '../../shared/stepSpec';

export type FormValues = Record<string, unknown>;

export interface Field {
  readonly key: string;
  readonly label: string;
  readonly help: string;
  /** A select's choices; 'boolean' for a checkbox; a number input when absent. */
  readonly choices?: readonly string[] | readonly number[] | 'boolean';
  readonly min?: number;
  readonly max?: number;
  /** The number input's increment ('any' for free decimals). */
  readonly step?: number | 'any';
  /** Shown only when this holds for the current values. */
  readonly when?: (values: StepValues) => boolean;
}

/** The form's switch between parameters of which exactly one is given. */
const BY = 'by';

function fieldOf(key: string, p: ParamSpec, oneOf: readonly string[] | undefined): Field {
  const when = oneOf?.includes(key) ? (v: StepValues) => (v[BY] ?? oneOf[0]) === key : p.when;
  const base = { key, label: p.label, help: p.help, ...(when ? { when } : {}) };
  switch (p.kind) {
    case 'choice':
      return { ...base, choices: p.options };
    case 'boolean':
      return { ...base, choices: 'boolean' };
    case 'text':
      return { ...base, choices: p.suggestions ?? [] };
    case 'number':
      return p.suggestions ? { ...base, choices: p.suggestions } : { ...base, min: p.min, max: p.max, step: p.step ?? (p.integer ? 1 : 'any') };
    case 'shapes':
      throw new Error(`internal: the form cannot show '${key}'`);
  }
}

/** The form's fields for a transform, in the specification's order. */
export function formFields(name: TransformName): readonly Field[] {
  const t = TRANSFORMS[name];
  const by: Field[] = t.oneOf ? [{ key: BY, label: 'By', help: `Give ${t.oneOf.join(' or ')}.`, choices: t.oneOf }] : [];
  return [...by, ...Object.entries(t.params).filter(([, p]) => !p.advanced).map(([key, p]) => fieldOf(key, p, t.oneOf))];
}

/**
 * The values the form shows: those given (a preset, the user's default setting, the user's own
 * changes), then the specification's defaults for the rest, in order, so a default that follows
 * another parameter (quantize's granularity after its dtype) follows what is shown.
 */
export function formValues(name: TransformName, given: StepValues): FormValues {
  const t = TRANSFORMS[name];
  const values: FormValues = { ...given };
  if (t.oneOf) values[BY] ??= t.oneOf.find((k) => given[k] !== undefined) ?? t.oneOf[0];
  for (const [key, p] of Object.entries(t.params)) {
    if (p.advanced || values[key] !== undefined) continue;
    values[key] = defaultOf(p, values) ?? (p.kind === 'number' ? p.start : undefined);
  }
  return values;
}

/** The recipe step the values describe, without its layers: the shown fields' values. */
export function formStep(name: TransformName, values: StepValues): FormValues {
  const step: FormValues = { transform: name };
  for (const f of formFields(name)) if (f.key !== BY && (!f.when || f.when(values))) step[f.key] = values[f.key];
  return step;
}

/** What a recipe step (a preset, a setting) gives the form: its parameters, without transform and layers. */
export function givenBy(step: StepValues): FormValues {
  return Object.fromEntries(Object.entries(step).filter(([k]) => k !== 'transform' && k !== 'layers'));
}
