/** The analysis progress phrase: layers done of all and the weights' share agree with what is counted. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { analysisProgress } from '../../../src/shared/format';

test('progress says layers done of all and the share of the weights, never more than 100%', () => {
  assert.equal(analysisProgress({ layersDone: 3, layersTotal: 100, elementsDone: 900, elementsTotal: 1000 }), '3 of 100 layers, 90% of the weights');
  assert.equal(analysisProgress({ layersDone: 0, layersTotal: 0, elementsDone: 0, elementsTotal: 0 }), '0 of 0 layers, 0% of the weights');
  assert.equal(analysisProgress({ layersDone: 9, layersTotal: 10, elementsDone: 999, elementsTotal: 1000 }), '9 of 10 layers, 99% of the weights');
});
