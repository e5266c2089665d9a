/** `--transform`: a recipe step as JSON, or a file holding one (a step, or a recipe of one step such as a plan `--plan` wrote). */
import * as fs from 'node:fs';
import { OnnxError } from '../core/errors';
import { parseJsonText } from '../core/jsonText';
import { parseRecipe, parseStep, type RecipeStep } from '../transforms/recipe';
import { readRecipe } from './applyCommand';

/** The step, or the usage message when `text` is neither JSON nor a file. */
export function parseTransform(text: string): RecipeStep | string {
  const inline = text.trimStart().startsWith('{');
  if (!inline && !fs.existsSync(text)) return `--transform needs a recipe step as JSON ('{"transform": "quantize", ...}') or a file of one: '${text}' is neither`;
  const raw = inline ? parseJsonText(text, '--transform') : readRecipe(text);
  const where = inline ? '--transform' : text;
  if (typeof raw === 'object' && raw !== null && 'steps' in raw) {
    const { steps } = parseRecipe(raw);
    if (steps.length !== 1) throw new OnnxError('recipe', `holds ${steps.length} steps: sensitivity takes one`, where);
    return steps[0];
  }
  return parseStep(raw, where);
}
