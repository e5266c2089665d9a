/** Graph inputs as people read them, and shapes typed for them. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';

test('a typed input shape is checked against the model: rank, fixed dims, positive whole numbers', async () => {
  const { parseShape } = await import('../../../src/core/onnx/graphValues');
  const shape = ['batch', 3, '?', '?'];
  assert.deepEqual(parseShape('1x3x48x192', shape), [1, 3, 48, 192]);
  assert.deepEqual(parseShape(' 2 × 3 × 8 × 8 ', shape), [2, 3, 8, 8]);
  assert.match(parseShape('1x3x48', shape) as string, /give 4 dims, e\.g\. 1x3x1x1/);
  assert.match(parseShape('1x4x48x192', shape) as string, /axis 1 \(0-based\) is fixed at 3/);
  assert.match(parseShape('1x3x0x192', shape) as string, /axis 2 \(0-based\) must be a positive whole number/);
  assert.match(parseShape('1x3x4.5x192', shape) as string, /axis 2 /);
});

test('graph inputs leave out initializers; symbolic dims keep their names', async () => {
  const { graphValues } = await import('../../../src/core/onnx/graphValues');
  const { openModel } = await import('../../../src/core/onnx/model');
  const path = await import('node:path');
  const { thirdPartyModels } = await import('../../helpers/paths');
  const { inputs, outputs } = graphValues(openModel(path.join(thirdPartyModels, 'ch_ppocr_mobile_v2.0_cls_infer.onnx')).proto);
  assert.deepEqual(inputs, [{ name: 'x', dataType: 'FLOAT', shape: ['p2o.DynamicDimension.0', 3, 'p2o.DynamicDimension.1', 'p2o.DynamicDimension.2'] }]);
  assert.equal(outputs.length, 1);
});
