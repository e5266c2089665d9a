/**
 * The ranks at 90/95/99 % energy from the WebAssembly Gram (float32 products summed over blocks
 * of 256 in float32, blocks added in float64) are those of the JavaScript Gram (exact float64
 * sums of exact products) on every matrix of two real models, PP-OCRv4 rec and det (the benchmark
 * bench/analysisVsNumpy.ts checks the same against numpy's eigvalsh, also on the 44M-weight
 * conv model).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { openModel } from '../../../src/core/onnx/model';
import { readDenseFloat32 } from '../../../src/core/onnx/tensorData';
import { rankForEnergy, singularEnergies } from '../../../src/analyzers/lowRank';
import { useKernels } from '../../../src/analyzers/wasm/kernelSwitch';
import { thirdPartyModels } from '../../helpers/paths';

const FLOAT = 1;

for (const file of ['ch_PP-OCRv4_rec_infer.onnx', 'ch_PP-OCRv4_det_infer.onnx']) test(`${file}: the kernel Gram gives the JavaScript ranks on every matrix`, async () => {
  const model = openModel(path.join(thirdPartyModels, file));
  let compared = 0;
  for (const t of model.index.tensors) {
    if (t.dataType !== FLOAT || t.dims.length < 2 || t.elements < 256) continue;
    const rows = t.dims[0];
    const cols = t.elements / rows;
    if (Math.min(rows, cols) < 2) continue;
    const w = await readDenseFloat32(t);
    const fast = await singularEnergies(w, rows, cols);
    useKernels(false);
    const plain = await singularEnergies(w, rows, cols).finally(() => useKernels(true));
    for (const fraction of [0.9, 0.95, 0.99]) assert.equal(rankForEnergy(fast, fraction), rankForEnergy(plain, fraction), `${t.name} [${rows}, ${cols}] rank at ${fraction}`);
    compared++;
  }
  assert.ok(compared > 40, `${compared} matrices compared`);
});
