/**
 * A recipe as text being edited: every problem with the place it is at (JSON syntax, fields the
 * parser refuses, layer names the named model does not have, with the names that were probably
 * meant), and where each step and each layer name sits, for diagnostics, quick fixes and code
 * lenses. Pure: VS Code's side (host/recipeDocuments.ts) only turns offsets into ranges.
 */
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser/lib/esm/main.js'; // the ESM build: the UMD one requires its parts at run time, which a bundle cannot follow
import { closest } from '../core/didYouMean';
import type { Layer } from '../analyzers/layers';
import { layerName, namesAnyLayer } from './targets';
import { parseRecipe, parseStep, type RecipeStep } from './recipe';

export interface TextSpan {
  readonly offset: number;
  readonly length: number;
}

export interface RecipeProblem extends TextSpan {
  readonly message: string;
  /** Names that were probably meant, for a layer name that matches nothing. */
  readonly suggestions?: readonly string[];
}

/** A layer name (or glob) written in a step's `layers` or `exclude`. */
export interface LayerEntry extends TextSpan {
  readonly step: number;
  readonly field: 'layers' | 'exclude';
  readonly name: string;
}

export interface StepText extends TextSpan {
  /** The step as parsed, when it parses. */
  readonly step?: RecipeStep;
}

export interface RecipeText {
  readonly problems: RecipeProblem[];
  readonly steps: StepText[];
  readonly layerEntries: LayerEntry[];
  /** The recipe's `model` field and where it is. */
  readonly model?: TextSpan & { readonly path: string };
}

const spanOf = (n: Node): TextSpan => ({ offset: n.offset, length: n.length });

/**
 * Reads recipe text. `layersOf` gives the layers of the model the recipe names (its `model`
 * field as written), or undefined when it cannot be read; with them, layer names are checked.
 */
export function readRecipeText(text: string, layersOf?: (model: string) => readonly Layer[] | undefined): RecipeText {
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: false, disallowComments: true });
  const problems: RecipeProblem[] = errors.map((e) => ({ offset: e.offset, length: Math.max(1, e.length), message: `JSON: ${printParseErrorCode(e.error)}` }));
  const result: RecipeText = { problems, steps: [], layerEntries: [] };
  if (!root || errors.length) return result;
  const whole = spanOf(root);
  try {
    // The fields around the steps (version, unknown fields); each step is checked on its own below.
    parseRecipe({ ...(getNodeValue(root) as object), steps: [] });
  } catch (e) {
    problems.push({ ...propertySpan(root, (e as Error).message, whole), message: (e as Error).message });
  }
  const modelNode = findNodeAtLocation(root, ['model']);
  const model = modelNode?.type === 'string' ? { ...spanOf(modelNode), path: modelNode.value as string } : undefined;
  const stepsNode = findNodeAtLocation(root, ['steps']);
  for (const [i, node] of (stepsNode?.type === 'array' ? (stepsNode.children ?? []) : []).entries()) {
    let step: RecipeStep | undefined;
    try {
      step = parseStep(getNodeValue(node), `step ${i + 1}`);
    } catch (e) {
      problems.push({ ...propertySpan(node, (e as Error).message, spanOf(node)), message: (e as Error).message });
    }
    result.steps.push({ ...spanOf(node), ...(step ? { step } : {}) });
    for (const field of ['layers', 'exclude'] as const) {
      const list = findNodeAtLocation(node, [field]);
      for (const entry of list?.type === 'array' ? (list.children ?? []) : []) {
        if (entry.type === 'string') result.layerEntries.push({ ...spanOf(entry), step: i, field, name: entry.value as string });
      }
    }
  }
  const layers = model && layersOf?.(model.path);
  if (layers) problems.push(...unknownLayerNames(result.layerEntries, layers));
  return { ...result, ...(model ? { model } : {}) };
}

/** Layer names that match no layer of the model, each with the names nearest to it. */
function unknownLayerNames(entries: readonly LayerEntry[], layers: readonly Layer[]): RecipeProblem[] {
  const names = layers.map(layerName);
  return entries
    .filter((e) => !namesAnyLayer(e.name, layers))
    .map((e) => {
      const suggestions = /[*?]/.test(e.name) ? [] : closest(e.name, names);
      const hint = suggestions.length ? ` (did you mean ${suggestions.map((s) => `'${s}'`).join(' or ')}?)` : '';
      return { offset: e.offset, length: e.length, message: `the model has no layer named '${e.name}'${hint}`, suggestions };
    });
}

/** The span of the property an error message names ('name'), when the object has it; else `fallback`. */
function propertySpan(object: Node, message: string, fallback: TextSpan): TextSpan {
  for (const [, name] of message.matchAll(/'([^']+)'/g)) {
    const property = object.children?.find((p) => p.type === 'property' && p.children?.[0]?.value === name);
    if (property) return spanOf(property);
  }
  return fallback;
}
