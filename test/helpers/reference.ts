/** Checks a model against the counts the Python onnx package computed for it (reference.py). */
import * as assert from 'node:assert/strict';
import { openModel } from '../../src/core/onnx/model';
import { summarizeModel } from '../../src/analyzers/modelSummary';
import type { Reference } from './paths';

export function assertMatchesReference(file: string, ref: Reference): void {
  const model = openModel(file);
  const s = summarizeModel(model);
  assert.equal(s.model.fileBytes, ref.fileBytes);
  assert.equal(s.model.irVersion, ref.irVersion);
  assert.deepEqual(s.model.opsets, ref.opsets);
  assert.equal(s.model.producer, ref.producer);
  assert.equal(s.model.graphCount, ref.graphCount);
  assert.equal(s.model.nodeCount, ref.nodeCount);
  assert.equal(model.index.tensors.length, ref.storedTensorCount);
  assert.equal(s.model.parameterCount, ref.parameterCount);
  const layerParams = s.layers.reduce((n, l) => n + l.params, 0);
  const unattributed = s.unattributed.reduce((n, w) => n + w.elements, 0);
  assert.equal(layerParams + unattributed, s.model.parameterCount, 'every element is counted exactly once');
  assert.ok(s.layers.length > 0, 'some layer holds weights');
  for (const table of [s.breakdown.byOpType, s.breakdown.byDataType]) {
    const rows = Object.values(table);
    assert.equal(rows.reduce((n, r) => n + r.params, 0), s.model.parameterCount, 'breakdown covers every parameter');
    assert.equal(rows.reduce((n, r) => n + r.bytes, 0), s.model.weightBytes, 'breakdown covers every byte');
  }
}
