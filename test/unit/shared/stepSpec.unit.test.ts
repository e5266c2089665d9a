/**
 * One vocabulary for recipe steps: for every parameter the recipe parser's default, the step
 * specification's, the editor form's starting value and the preview's are the same; the form
 * offers what the specification allows; every preset parses; the committed JSON schema is the
 * one the specification makes.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CALIBRATION, QUANT_DTYPES, TRANSFORMS, TRANSFORM_NAMES, defaultGranularity, defaultOf, type StepValues, type TransformName } from '../../../src/shared/stepSpec';
import { PRESETS } from '../../../src/shared/presets';
import { parseStep } from '../../../src/transforms/recipe';
import { recipeSchema } from '../../../src/transforms/recipeSchema';
import { previewStep, type PreviewLayer } from '../../../src/analyzers/stepPreview';
import { formFields, formStep, formValues } from '../../../src/webviews/editor/formFields';
import { repoRoot } from '../../helpers/paths';

/** What each transform needs besides its defaults to parse. */
const REQUIRED: Readonly<Record<TransformName, StepValues>> = { quantize: {}, prune: { sparsity: 0.5 }, cluster: {}, factorize: { energy: 0.99 } };

/** A 64×96 float weight whose analysis figures all differ, so a changed setting changes the preview. */
const layer = {
  weights: [{ name: 'w', dataType: 'FLOAT', shape: [64, 96], elements: 6144, bytes: 24576, stats: { histogram: { min: -1, max: 1, counts: [1, 2, 4, 8, 16, 16, 8, 4, 2, 1] } } }],
  redundancy: {
    weight: 'w', int8SqnrDb: 40, int4SqnrDb: 16, int8PerTensorSqnrDb: 35, int4PerTensorSqnrDb: 12, uint8PerTensorSqnrDb: 36, uint4PerTensorSqnrDb: 13,
    cluster4SqnrDb: 10, cluster16SqnrDb: 22, cluster256SqnrDb: 45,
    energyCurve: { fullRank: 64, ranks: [1, 8, 16, 32, 64], kept: [0.5, 0.9, 0.95, 0.995, 1] },
  },
} as unknown as PreviewLayer;

/** The steps the test looks at: each transform alone, and quantize with every dtype (granularity follows it). */
const cases = (): { name: TransformName; given: StepValues }[] => [
  ...TRANSFORM_NAMES.map((name) => ({ name, given: REQUIRED[name] })),
  ...QUANT_DTYPES.map((dtype) => ({ name: 'quantize' as const, given: { dtype } })),
];

test('for every parameter: parser default == specification default == form default == preview default', () => {
  let compared = 0;
  for (const { name, given } of cases()) {
    const parsed = parseStep({ transform: name, ...given }) as unknown as StepValues;
    const form = formValues(name, given);
    for (const [key, param] of Object.entries(TRANSFORMS[name].params)) {
      if (given[key] !== undefined) continue;
      const spec = defaultOf(param, { ...given, ...parsed });
      if (spec === undefined) continue;
      const where = `${name} ${JSON.stringify(given)} '${key}'`;
      assert.deepEqual(parsed[key], spec, `${where}: the parser fills in the specification's default`);
      if (!param.advanced) assert.deepEqual(form[key], spec, `${where}: the form starts from it`);
      const without = previewStep({ transform: name, ...given }, [layer]);
      const withDefault = previewStep({ transform: name, ...given, [key]: spec }, [layer]);
      assert.deepEqual(without, withDefault, `${where}: the preview assumes it`);
      compared++;
    }
  }
  assert.ok(compared >= 20, `${compared} defaults compared`);
});

test('INT4 and UINT4 default to blocks of 32, 8-bit types to per-channel scales, everywhere', () => {
  for (const dtype of ['int4', 'uint4'] as const) {
    const parsed = parseStep({ transform: 'quantize', dtype });
    assert.equal(parsed.transform === 'quantize' && `${parsed.granularity} ${parsed.blockSize}`, 'block 32');
    assert.deepEqual(formStep('quantize', formValues('quantize', { dtype })), { transform: 'quantize', dtype, granularity: 'block', blockSize: 32, symmetric: true, method: 'rtn', format: 'qdq' });
  }
  for (const dtype of ['int8', 'uint8'] as const) assert.equal(defaultGranularity(dtype), 'per-channel');
  // A bigger INT4 preview than per-channel scales would give: the preview counts blocks.
  const blocks = previewStep({ transform: 'quantize', dtype: 'int4' }, [layer]);
  const channels = previewStep({ transform: 'quantize', dtype: 'int4', granularity: 'per-channel' }, [layer]);
  assert.ok(blocks.bytesAfter > channels.bytesAfter, `${blocks.bytesAfter} vs ${channels.bytesAfter}`);
});

/** Values that make a parameter apply, where the defaults do not. */
const APPLIES_WITH: Readonly<Record<string, Record<string, unknown>>> = { blockSize: { granularity: 'block' } };

test("the form's fields are the specification's, and every step the form makes at its start parses", () => {
  for (const name of TRANSFORM_NAMES) {
    const params = TRANSFORMS[name].params;
    for (const f of formFields(name)) {
      if (f.key === 'by') {
        assert.deepEqual(f.choices, TRANSFORMS[name].oneOf);
        continue;
      }
      const p = params[f.key];
      assert.ok(p && !p.advanced, `${name} '${f.key}' is a parameter the form shows`);
      assert.equal(f.label, p.label);
      if (p.kind === 'choice') assert.deepEqual(f.choices, p.options);
      if (p.kind === 'number' && !p.suggestions) assert.deepEqual([f.min, f.max], [p.min, p.max]);
      if (p.kind === 'number' && p.suggestions) {
        // Each suggestion, where the parameter applies (given elsewhere it is an error).
        const values = { ...REQUIRED[name], ...APPLIES_WITH[f.key] };
        assert.ok(!p.when || p.when(values), `${name} '${f.key}' applies with ${JSON.stringify(values)}`);
        for (const v of p.suggestions) parseStep({ transform: name, ...values, [f.key]: v });
      }
      for (const v of p.kind === 'text' ? (p.suggestions ?? []) : []) {
        // An N:M pattern implies its sparsity.
        const { sparsity, ...rest } = REQUIRED[name];
        assert.doesNotThrow(() => parseStep({ transform: name, ...(String(v).includes(':') ? rest : { ...rest, sparsity }), [f.key]: v }), `${name} '${f.key}' ${v}`);
      }
    }
    assert.doesNotThrow(() => parseStep(formStep(name, formValues(name, {}))), name);
  }
});

test('every preset is a valid step in the words of the specification', () => {
  for (const [name, presets] of Object.entries(PRESETS)) {
    for (const p of presets) {
      assert.equal(p.step.transform, name, p.label);
      for (const key of Object.keys(p.step)) if (key !== 'transform') assert.ok(key in TRANSFORMS[name as TransformName].params, `${p.label}: '${key}'`);
      assert.doesNotThrow(() => parseStep(p.step), p.label);
    }
  }
});

test('the parser keeps to the specification: out of range, not an option, and not a power of two are refused', () => {
  assert.throws(() => parseStep({ transform: 'cluster', clusters: 257 }), /'clusters' must be an integer from 2 to 256, not 257/);
  assert.throws(() => parseStep({ transform: 'quantize', dtype: 'int2' }), /'dtype' must be one of "int8", "uint8", "int4", "uint4", "float16", not "int2"/);
  assert.throws(() => parseStep({ transform: 'quantize', bits: 6 }), /'bits' must be 4, 8 or 16, not 6/);
  assert.throws(() => parseStep({ transform: 'quantize', dtype: 'int4', blockSize: 48 }), /'blockSize' must be a power of two, not 48/);
  assert.throws(() => parseStep({ transform: 'factorize', rank: 2 ** 21 }), /'rank' must be an integer from 1 to 1048576/);
  const c = CALIBRATION.samples;
  assert.ok(c.kind === 'number');
  assert.throws(() => parseStep({ transform: 'quantize', mode: 'static', calibration: { samples: c.max + 1 } }), /'samples' must be an integer from 1 to 100000/);
});

test('schemas/recipe.schema.json is the schema the specification makes (run scripts/make-schema.mjs after changing it)', () => {
  const committed = JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas/recipe.schema.json'), 'utf8'));
  assert.deepEqual(committed, JSON.parse(JSON.stringify(recipeSchema())));
});

test('every parameter that applies only sometimes says where, for the error that refuses it elsewhere', () => {
  for (const params of [...TRANSFORM_NAMES.map((n) => TRANSFORMS[n].params), CALIBRATION]) {
    for (const [key, p] of Object.entries(params)) if (p.when) assert.ok(p.appliesTo, `'${key}' has a 'when' and no 'appliesTo'`);
  }
});
