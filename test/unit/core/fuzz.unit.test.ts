/**
 * Seeded, time-bounded fuzzing: mutated real models through the reader and the analysis, mutated
 * recipes through the recipe parser and (when they parse) the transforms, mutated .npy/.npz files
 * through the NumPy reader. Every case must end in success or an OnnxError; an input that ends in
 * anything else is written to test/fixtures/fuzz/ and replayed by the regression test below.
 *
 * The seed is fixed (ONNX_COMPRESS_FUZZ_SEED overrides it); cases run round-robin over the families
 * of each group until its count or its time budget is reached, and the counts per family are printed.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OnnxError } from '../../../src/core/errors';
import { parseModel } from '../../../src/core/onnx/model';
import { readDenseFloat32, readRawBytes } from '../../../src/core/onnx/tensorData';
import { parseNpy, parseNpz } from '../../../src/core/npy';
import { parseJsonText } from '../../../src/core/jsonText';
import { seededRandom } from '../../../src/core/random';
import { attributeLayers } from '../../../src/analyzers/layers';
import { summarizeModel } from '../../../src/analyzers/modelSummary';
import { countMacs } from '../../../src/analyzers/macs';
import { inferShapes } from '../../../src/analyzers/shapes';
import { parseRecipe } from '../../../src/transforms/recipe';
import { TRANSFORMS, type ParamSpec, type TransformName } from '../../../src/shared/stepSpec';
import { applyRecipe, stateOf } from '../../../src/transforms/apply';
import { fixtureModels, repoRoot, tempDir, thirdPartyModels } from '../../helpers/paths';
import { corruptLength, corruptVarint, flipBits, lengthFields, nestedModel, structuralCase, truncate, type Rand } from '../../helpers/fuzzMutators';

const SEED = Number(process.env.ONNX_COMPRESS_FUZZ_SEED ?? 19);
/** Time budgets per group, so a slow machine still fuzzes every group. */
const BUDGET_MS = { models: 30_000, recipes: 10_000, numpy: 5_000 };
const crashDir = path.join(repoRoot, 'test/fixtures/fuzz');
const CANARY = Buffer.from('CANARY-OUTSIDE-THE-MODEL-FOLDER!');

const models = [
  path.join(fixtureModels, 'mlp_everything.onnx'),
  path.join(fixtureModels, 'control_flow.onnx'),
  path.join(fixtureModels, 'external.onnx'),
  path.join(fixtureModels, 'macs_mix.onnx'),
  path.join(thirdPartyModels, 'hello_deepa.onnx'),
  path.join(thirdPartyModels, 'ch_ppocr_mobile_v2.0_cls_infer.onnx'),
];

/** A model folder with side files a mutated location may name, and a canary outside it. */
function modelFolder(): string {
  const root = tempDir();
  fs.writeFileSync(path.join(root, 'outside.bin'), Buffer.concat(new Array(64).fill(CANARY)));
  const dir = path.join(root, 'models');
  fs.mkdirSync(dir);
  fs.copyFileSync(path.join(fixtureModels, 'external.onnx.data'), path.join(dir, 'external.onnx.data'));
  fs.writeFileSync(path.join(dir, 'inside.bin'), new Uint8Array(64));
  fs.writeFileSync(path.join(dir, '..w.bin'), new Uint8Array(64));
  fs.symlinkSync(path.join(root, 'outside.bin'), path.join(dir, 'link.bin'));
  return dir;
}

/** What a user's analyze does with a model: decode, index, attribute, shapes, MACs, and read every tensor. */
async function exerciseModel(bytes: Uint8Array, dir: string): Promise<void> {
  const m = parseModel(bytes, { dir });
  const attribution = attributeLayers(m.index);
  summarizeModel(m, attribution);
  countMacs(m.index, inferShapes(m.index));
  for (const t of m.index.tensors) {
    if (t.elements > 1 << 22) continue;
    const data = t.storage.kind === 'sparse' ? new Uint8Array((await readDenseFloat32(t)).buffer) : await readRawBytes(t);
    assert.ok(!Buffer.from(data).includes(CANARY), `tensor '${t.name}' read bytes from outside the model folder`);
  }
}

interface Tally {
  ok: number;
  refused: number;
  crashed: number;
  slowestMs: number;
}

class Fuzz {
  readonly tallies = new Map<string, Tally>();
  readonly crashes: string[] = [];

  async run(family: string, input: Uint8Array, ext: string, body: () => Promise<unknown> | unknown): Promise<'ok' | 'refused'> {
    const tally = this.tallies.get(family) ?? { ok: 0, refused: 0, crashed: 0, slowestMs: 0 };
    this.tallies.set(family, tally);
    const started = performance.now();
    try {
      await body();
      tally.ok++;
      return 'ok';
    } catch (e) {
      if (e instanceof OnnxError) {
        tally.refused++;
        return 'refused';
      }
      tally.crashed++;
      fs.mkdirSync(crashDir, { recursive: true });
      const file = path.join(crashDir, `${family}-${SEED}-${this.crashes.length}.${ext}`);
      fs.writeFileSync(file, input);
      this.crashes.push(`${family}: ${(e as Error).stack?.split('\n').slice(0, 3).join(' | ')} (kept as ${path.relative(repoRoot, file)})`);
      return 'refused';
    } finally {
      tally.slowestMs = Math.max(tally.slowestMs, performance.now() - started);
    }
  }

  table(): string {
    const rows = [...this.tallies].map(([f, t]) => `${f.padEnd(22)} ${String(t.ok + t.refused + t.crashed).padStart(6)} ${String(t.ok).padStart(6)} ${String(t.refused).padStart(8)} ${String(t.crashed).padStart(8)} ${t.slowestMs.toFixed(0).padStart(8)}`);
    const total = [...this.tallies.values()].reduce((n, t) => n + t.ok + t.refused + t.crashed, 0);
    return [`${'family'.padEnd(22)}  cases     ok  refused  crashed  slowest ms`, ...rows, `total ${total} cases, seed ${SEED}`].join('\n');
  }
}

const originals: Uint8Array[] = models.map((f) => new Uint8Array(fs.readFileSync(f)));
const fixtureDirOf = (b: Uint8Array): string => path.dirname(models[originals.indexOf(b)]);

const modelFamilies: Record<string, (bytes: Uint8Array, rand: Rand) => Uint8Array> = {
  truncation: truncate,
  bitFlips: flipBits,
  lengthField: (b, r) => corruptLength(b, lengthFields(b) ?? [], r),
  varint: (b, r) => corruptVarint(b, lengthFields(b) ?? [], r),
  dims: (b, r) => structuralCase(b, fixtureDirOf(b), 'dims', r),
  dataType: (b, r) => structuralCase(b, fixtureDirOf(b), 'dataType', r),
  rawDataSize: (b, r) => structuralCase(b, fixtureDirOf(b), 'rawDataSize', r),
  externalData: (b, r) => structuralCase(b, fixtureDirOf(b), 'external', r),
  hugeName: (b, r) => structuralCase(b, fixtureDirOf(b), 'hugeName', r),
  hugeDocString: (b, r) => structuralCase(b, fixtureDirOf(b), 'hugeDocString', r),
  nesting: (_, r) => nestedModel(1 + Math.floor(r() * 160)),
};

const recipeSeeds: unknown[] = [
  { version: 1, steps: [{ transform: 'quantize', dtype: 'int8' }] },
  { version: 1, steps: [{ transform: 'quantize', dtype: 'int4', blockSize: 32, layers: ['*'] }] },
  { version: 1, steps: [{ transform: 'prune', sparsity: 0.5, layers: ['w*'] }] },
  { version: 1, steps: [{ transform: 'cluster', clusters: 16 }] },
  { version: 1, steps: [{ transform: 'quantize', dtype: 'float16' }, { transform: 'prune', sparsity: 0.2 }] },
  { version: 1, steps: [{ transform: 'factorize', energy: 0.9 }] },
  { version: 1, steps: [{ transform: 'prune', pattern: '2:4' }] },
];
/** Values a recipe field may well hold: most mutated recipes that use them still parse and get applied. */
const plausibleValues: unknown[] = [0.9, 0.1, 0.5, 8, 4, 2, 16, 32, 64, 'int8', 'uint8', 'int4', 'float16', 'per-channel', 'per-tensor', ['*'], ['w*'], ['*1'], 'quantize', 'prune', 'cluster', 'factorize'];
const hostileValues: unknown[] = [null, -1, 0, 1e308, -1e308, 2 ** 53 + 1, 0.5, '', 'x'.repeat(100_000), '*'.repeat(10_000), '\x1b[2J', [], [[[[]]]], {}, { a: 1 }, true, 'int3', 'rtn', 'gptq', 'static', [1, 2], ['no-such-layer'], 1e-300];

function leaf(rand: Rand): unknown {
  return rand() < 0.5 ? plausibleValues[Math.floor(rand() * plausibleValues.length)] : hostileValues[Math.floor(rand() * hostileValues.length)];
}

function mutateJson(value: unknown, rand: Rand, depth = 0): unknown {
  if (depth > 6 || (depth >= 2 && rand() < 0.3) || rand() < 0.03) return leaf(rand);
  if (Array.isArray(value)) {
    if (value.length === 0) return [leaf(rand)];
    const out = [...value];
    out[Math.floor(rand() * out.length)] = mutateJson(out[Math.floor(rand() * out.length)], rand, depth + 1);
    return out;
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
    const keys = Object.keys(out);
    const r = rand();
    if (r < 0.05) out[`extra${Math.floor(rand() * 3)}`] = 1;
    else if (r < 0.15 && keys.length) delete out[keys[Math.floor(rand() * keys.length)]];
    else if (r < 0.35) out[PARAMS[Math.floor(rand() * PARAMS.length)]] = leaf(rand);
    else if (keys.length) {
      const k = keys[Math.floor(rand() * keys.length)];
      out[k] = mutateJson(out[k], rand, depth + 1);
    }
    return out;
  }
  return leaf(rand);
}

const PARAMS = ['sparsity', 'dtype', 'blockSize', 'clusters', 'granularity', 'exclude', 'method', 'symmetric', 'energy', 'rank', 'pattern', 'bits', 'mode', 'scope'];

/** A value for a parameter from its spec: usually one it allows, sometimes just outside. */
function valueFor(spec: ParamSpec, rand: Rand): unknown {
  const off = rand() < 0.2;
  switch (spec.kind) {
    case 'choice':
      return off ? `${spec.options[0]}x` : spec.options[Math.floor(rand() * spec.options.length)];
    case 'number': {
      if (spec.values) return off ? spec.max + 1 : spec.values[Math.floor(rand() * spec.values.length)];
      if (off) return rand() < 0.5 ? spec.min - 1 : spec.max * 2;
      const v = spec.min + rand() * (Math.min(spec.max, spec.min + 1024) - spec.min);
      return spec.integer || spec.powerOfTwo ? (spec.powerOfTwo ? 2 ** Math.round(Math.log2(Math.max(1, v))) : Math.round(v)) : v;
    }
    case 'boolean':
      return off ? 'yes' : rand() < 0.5;
    case 'text':
      return off ? '' : (spec.suggestions?.[0] ?? spec.default ?? 'x');
    default:
      return off ? { x: [0] } : {};
  }
}

/** Semantic mutations: a step's parameters set from their specs (allowed values, near misses), its layers from real and missing names. */
function mutateRecipe(recipe: unknown, rand: Rand): unknown {
  if (rand() < 0.3) return mutateJson(recipe, rand);
  const r = recipe as { version: number; steps: Record<string, unknown>[] };
  const steps = r.steps.map((s) => ({ ...s }));
  const step = steps[Math.floor(rand() * steps.length)];
  const params = Object.entries(TRANSFORMS[step.transform as TransformName].params);
  for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
    const [name, spec] = params[Math.floor(rand() * params.length)];
    step[name] = valueFor(spec, rand);
  }
  if (rand() < 0.3) step.layers = [['*'], ['w*'], ['w1'], ['nope'], ['*1', '*2']][Math.floor(rand() * 5)];
  return { ...r, steps };
}

function npyVariant(rand: Rand): Uint8Array {
  const descr = ["'<f4'", "'|O'", "'<U5'", "'>f4'", "'<c8'", "'V8'", "'<i8'", "'|b1'", "[('a', '<f4')]"][Math.floor(rand() * 9)];
  const shape = ['(2, 3)', '(-1,)', '(1e99,)', '(99999999999, 99999999999)', '()', '(0,)', '(3,', '(2, 3, 4, 5, 6, 7, 8, 9)'][Math.floor(rand() * 8)];
  const fortran = rand() < 0.2 ? 'True' : 'False';
  let header = `{'descr': ${descr}, 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
  header += ' '.repeat((64 - ((11 + header.length) % 64)) % 64) + '\n';
  const major = [1, 1, 1, 2, 3, 0, 9][Math.floor(rand() * 7)];
  const head = major === 1 ? [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0, header.length & 0xff, header.length >> 8] : [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, major, 0, header.length & 0xff, header.length >> 8, 0, 0];
  return new Uint8Array(Buffer.concat([Buffer.from(head), Buffer.from(header, 'latin1'), Buffer.alloc(Math.floor(rand() * 64))]));
}

async function exerciseNpz(bytes: Uint8Array): Promise<void> {
  const npz = parseNpz(bytes);
  for (const name of npz.keys()) npz.get(name);
}

test('fuzz: models, recipes and NumPy files end in success or a named error', async () => {
  const rand = seededRandom(SEED);
  const fuzz = new Fuzz();
  const dir = modelFolder();
  let started = Date.now();
  let budget = BUDGET_MS.models;
  const inBudget = (): boolean => Date.now() - started < budget;
  const nextGroup = (ms: number): void => {
    started = Date.now();
    budget = ms;
  };

  const families = Object.entries(modelFamilies);
  for (let i = 0; i < 3300 && inBudget(); i++) {
    const [family, mutate] = families[i % families.length];
    const input = mutate(originals[Math.floor(rand() * originals.length)], rand);
    await fuzz.run(`model/${family}`, input, 'onnx', () => exerciseModel(input, dir));
  }

  nextGroup(BUDGET_MS.recipes);
  const mlp = parseModel(originals[0], { dir: fixtureModels });
  let applied = 0;
  for (let i = 0; i < 600 && inBudget(); i++) {
    const value = mutateRecipe(recipeSeeds[i % recipeSeeds.length], rand);
    const text = JSON.stringify(value) ?? 'null';
    const input = Buffer.from(i % 4 === 3 ? text.slice(0, Math.floor(rand() * text.length)) : text);
    const outcome = await fuzz.run('recipe/parse', input, 'json', () => parseRecipe(parseJsonText(input.toString('utf8'), 'recipe')));
    // Recipes that parse are applied (without onnxruntime services) to a small real model.
    if (outcome === 'ok' && applied++ < 200) {
      await fuzz.run('recipe/apply', input, 'json', () => applyRecipe(stateOf(mlp.proto, mlp.dir), parseRecipe(JSON.parse(input.toString('utf8'))).steps));
    }
  }

  nextGroup(BUDGET_MS.numpy);
  const npyFiles = ['arrays.npy', 'arrays.npz', 'arrays_stored.npz'].map((f) => new Uint8Array(fs.readFileSync(path.join(repoRoot, 'test/fixtures', f))));
  for (let i = 0; i < 900 && inBudget(); i++) {
    const which = i % 4;
    if (which === 3) {
      const input = npyVariant(rand);
      await fuzz.run('npy/header', input, 'npy', () => parseNpy(input));
      continue;
    }
    const original = npyFiles[which];
    const input = i % 8 < 4 ? truncate(original, rand) : flipBits(original, rand);
    if (which === 0) await fuzz.run('npy/mutated', input, 'npy', () => parseNpy(input));
    else await fuzz.run('npz/mutated', input, 'npz', () => exerciseNpz(input));
  }

  console.log(fuzz.table());
  assert.deepEqual(fuzz.crashes, [], 'every case ends in success or an OnnxError');
});

test('fuzz regressions: inputs that once crashed end in success or a named error', async () => {
  const files = fs.existsSync(crashDir) ? fs.readdirSync(crashDir).filter((f) => /\.(onnx|json|npy|npz)$/.test(f)) : [];
  const dir = modelFolder();
  for (const name of files) {
    const bytes = new Uint8Array(fs.readFileSync(path.join(crashDir, name)));
    try {
      if (name.endsWith('.onnx')) await exerciseModel(bytes, dir);
      else if (name.endsWith('.json')) parseRecipe(parseJsonText(Buffer.from(bytes).toString('utf8'), 'recipe'));
      else if (name.endsWith('.npy')) parseNpy(bytes);
      else await exerciseNpz(bytes);
    } catch (e) {
      assert.ok(e instanceof OnnxError, `${name}: ${(e as Error).stack}`);
    }
  }
});
