/**
 * The JSON schema of recipes, made from the step specification (shared/stepSpec.ts) so editors
 * and the parser cannot disagree. `node scripts/make-schema.mjs` writes it to
 * schemas/recipe.schema.json; a unit test fails when the committed file differs.
 */
import { CALIBRATION, TRANSFORMS, TRANSFORM_NAMES, type ParamSpec } from '../shared/stepSpec';

type Schema = Record<string, unknown>;

function paramSchema(p: ParamSpec): Schema {
  const out: Schema = {};
  switch (p.kind) {
    case 'choice':
      out.enum = [...p.options];
      if (typeof p.default === 'string') out.default = p.default;
      break;
    case 'boolean':
      out.type = 'boolean';
      out.default = p.default;
      break;
    case 'text':
      out.type = 'string';
      if (p.pattern) out.pattern = p.pattern;
      if (p.default) out.default = p.default;
      break;
    case 'number':
      if (p.values) {
        out.enum = [...p.values];
        break;
      }
      out.type = p.integer ? 'integer' : 'number';
      out.minimum = p.min;
      out.maximum = p.max;
      if (p.default !== undefined) out.default = p.default;
      break;
    case 'shapes':
      out.type = 'object';
      out.additionalProperties = { type: 'array', items: { type: 'integer', minimum: 1, maximum: p.maxDim } };
      break;
  }
  const rule = p.kind === 'choice' && p.defaultRule ? ` Default: ${p.defaultRule}.` : '';
  const only = p.appliesTo ? ` Only with ${p.appliesTo}: an error otherwise.` : '';
  out.description = p.help + rule + only;
  return out;
}

const params = (specs: Readonly<Record<string, ParamSpec>>): Schema => Object.fromEntries(Object.entries(specs).map(([k, p]) => [k, paramSchema(p)]));

function transformSchema(name: (typeof TRANSFORM_NAMES)[number]): Schema {
  const t = TRANSFORMS[name];
  const properties: Schema = {
    transform: { const: name },
    layers: { $ref: '#/definitions/layers' },
    exclude: { $ref: '#/definitions/exclude' },
    ...params(t.params),
  };
  if (name === 'quantize') {
    properties.calibration = { type: 'object', additionalProperties: false, description: "Static mode ('mode': \"static\"), or weight-only with 'method' \"gptq\" (data, samples and shapes only).", properties: params(CALIBRATION) };
  }
  return {
    description: t.help,
    type: 'object',
    additionalProperties: false,
    ...(t.oneOf ? { oneOf: t.oneOf.map((k) => ({ required: [k] })) } : {}),
    properties,
  };
}

export function recipeSchema(): Schema {
  const names = [...TRANSFORM_NAMES];
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://onnx-compress.dev/schemas/recipe.schema.json',
    title: 'ONNX Compress recipe',
    description:
      'Transform steps applied in order by `onnx-compress apply MODEL --recipe RECIPE.json --output OUT.onnx`, and recorded by the editor. ' +
      'Cross-field rules the schema cannot say (bits vs dtype, N < M, sparsity vs an N:M pattern, parameters given where they do not apply) are checked when the recipe is read. ' +
      'Generated from src/shared/stepSpec.ts by scripts/make-schema.mjs: edit that, not this.',
    type: 'object',
    required: ['version', 'steps'],
    additionalProperties: false,
    properties: {
      $schema: { type: 'string' },
      description: { type: 'string' },
      model: { type: 'string', minLength: 1, description: 'The model this recipe was written for, relative to the recipe file: VS Code checks layer names against it and shows each step\'s predicted size and error. `apply` takes its MODEL argument.' },
      version: { const: 1 },
      steps: { type: 'array', items: { $ref: '#/definitions/step' } },
    },
    definitions: {
      layers: {
        description: '"*" for every layer, a layer name, or a list of them (a node\'s name, `graph/name` inside subgraphs); `*` and `?` work as wildcards. A name that matches no layer is an error.',
        oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 } }],
      },
      exclude: {
        oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 } }],
        description: 'A layer name or a list of them, left out even when `layers` matches them. A name that matches no layer is an error.',
      },
      step: {
        type: 'object',
        required: ['transform'],
        properties: { transform: { enum: names } },
        allOf: names.map((n) => ({ if: { properties: { transform: { const: n } } }, then: { $ref: `#/definitions/${n}` } })),
      },
      ...Object.fromEntries(names.map((n) => [n, transformSchema(n)])),
    },
  };
}
