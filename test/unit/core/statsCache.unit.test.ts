/** Re-analysing is instant: statistics are reused for unchanged tensors, recomputed for edited ones. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { indexModel } from '../../../src/core/onnx/modelIndex';
import { mapTensors } from '../../../src/core/onnx/mapTensors';
import { encodeMessage } from '../../../src/core/protobuf/encode';
import { ModelSchema } from '../../../src/core/onnx/schema';
import { concatBytes } from '../../../src/core/bytes';
import { attributeLayers } from '../../../src/analyzers/layers';
import { analyzeLayer } from '../../../src/analyzers/layerAnalysis';
import { StatsCache } from '../../../src/analyzers/statsCache';
import type { TensorStats } from '../../../src/analyzers/tensorStats';
import { fixtureModels, tempDir } from '../../helpers/paths';
import { floatTensor } from '../../helpers/modelBuilder';

async function statsByName(file: string | undefined, model: ReturnType<typeof openModel>, cache: StatsCache): Promise<Map<string, TensorStats>> {
  const out = new Map<string, TensorStats>();
  for (const layer of attributeLayers(model.index).layers) {
    const a = await analyzeLayer(layer, { cache: { stats: cache, fileVersion: StatsCache.fileVersion(file) } });
    for (const [t, s] of a.stats) out.set(t.name, s);
  }
  return out;
}

test('a re-opened unchanged file, and tensors an edit did not touch, reuse their statistics', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'm.onnx');
  fs.copyFileSync(path.join(fixtureModels, 'mlp_everything.onnx'), file);
  const cache = new StatsCache();
  const first = await statsByName(file, openModel(file), cache);
  const reopened = await statsByName(file, openModel(file), cache);
  for (const [name, s] of first) assert.equal(reopened.get(name), s, `${name} comes from the cache`);

  // An edit: w1 replaced. Everything else keeps its objects and so its statistics.
  const model = openModel(file);
  const before = await statsByName(file, model, cache);
  const edited = mapTensors(model.proto, (t) => (t.name === 'w1' ? floatTensor('w1', [8, 16], new Array(128).fill(0.5)) : t));
  const bytes = concatBytes(encodeMessage(ModelSchema, edited).finish());
  // An edited model lives in memory (no file version): only object identity can match.
  const sameObjects = { ...model, proto: edited, index: indexModel(edited, { modelDir: dir }) };
  const afterEdit = await statsByName(undefined, sameObjects, cache);
  assert.notEqual(afterEdit.get('w1'), before.get('w1'));
  assert.equal(afterEdit.get('w1')!.max, 0.5);
  for (const name of ['b1', 'w2_f16', 'w3_i8', 'cvec']) assert.equal(afterEdit.get(name), before.get(name), `${name} untouched`);

  // A changed file on disk is analysed again.
  fs.writeFileSync(file, bytes);
  const future = new Date(Date.now() + 5000);
  fs.utimesSync(file, future, future);
  const changed = await statsByName(file, openModel(file), cache);
  assert.equal(changed.get('w1')!.max, 0.5);
});
