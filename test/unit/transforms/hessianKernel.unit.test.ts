/**
 * The WebAssembly Hessian (wasm/hessianKernel.ts) against the JavaScript reference
 * (HessianAccumulator) and NumPy: bit for bit where every sum is exact (small integers), within
 * float64 rounding of the sums of |products| otherwise; batches that cross the kernel's buffer of
 * rows, K not a multiple of the micro-tile, NaN reaching only its row and column, plain and fused
 * multiply; hessianSum picks the kernel only for K ≥ 128 with the kernels on.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { GemmKernel, hasFusedMultiplyAdd } from '../../../src/analyzers/wasm/gemmKernel';
import { useKernels } from '../../../src/analyzers/wasm/kernelSwitch';
import { seededRandom } from '../../../src/core/random';
import { HessianAccumulator, hessianSum, type HessianSum } from '../../../src/transforms/hessian';
import { KernelHessian } from '../../../src/transforms/wasm/hessianKernel';
import { doubles, floats, loadGptqReference } from '../../helpers/gptqReference';

const kernels: [string, () => GemmKernel][] = [['plain', () => new GemmKernel(false)]];
if (hasFusedMultiplyAdd()) kernels.push(['fused', () => new GemmKernel(true)]);

/** Feeds x [rows, K] in batches of the given sizes (then the rest) and finishes. */
function gather(acc: HessianSum, x: Float32Array, batches: readonly number[]): Float64Array {
  const k = acc.k;
  let at = 0;
  for (const m of [...batches, x.length / k - batches.reduce((a, b) => a + b, 0)]) {
    acc.add(x.subarray(at * k, (at + m) * k), m);
    at += m;
  }
  return acc.finish();
}

/** Batches crossing the kernel's 256-row buffer: 7, 300 (past a whole buffer), 1, 200. */
const BATCHES = [7, 300, 1, 200];

for (const [name, make] of kernels) {
  test(`${name}: small integers (every sum exact) give the reference's H to the bit`, () => {
    const random = seededRandom(3);
    for (const k of [1, 5, 131]) {
      const x = Float32Array.from({ length: 600 * k }, () => Math.floor(random() * 17) - 8);
      const want = gather(new HessianAccumulator(k), x, BATCHES);
      const got = gather(new KernelHessian(k, make()), x, BATCHES);
      assert.deepEqual(Array.from(got), Array.from(want), `K = ${k}`);
      assert.ok(want.some((v) => v !== 0));
    }
  });

  test(`${name}: random floats: within float64 rounding of the reference, symmetric`, () => {
    const random = seededRandom(11);
    const k = 203;
    const rows = 700;
    const x = Float32Array.from({ length: rows * k }, () => Math.fround((random() - 0.5) * 2 ** Math.floor(random() * 12 - 6)));
    const want = gather(new HessianAccumulator(k), x, BATCHES);
    const magnitude = gather(new HessianAccumulator(k), x.map(Math.abs), BATCHES);
    const got = gather(new KernelHessian(k, make()), x, BATCHES);
    let worst = 0;
    for (let i = 0; i < k * k; i++) {
      assert.ok(Math.abs(got[i] - want[i]) <= 2 * rows * 2 ** -53 * magnitude[i], `H[${i}] = ${got[i]}, reference ${want[i]}`);
      worst = Math.max(worst, Math.abs(got[i] - want[i]));
    }
    for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) assert.equal(got[i * k + j], got[j * k + i]);
    assert.ok(worst > 0, 'the sums run in another order: some value should differ in its last bits');
  });

  test(`${name}: NumPy's H for the GPTQ reference's inputs; NaN reaches only its row and column`, () => {
    const ref = loadGptqReference();
    const c = ref.cases[0];
    const h = gather(new KernelHessian(c.k, make()), floats(ref, `${c.name}__x`), ref.hessianBatches);
    const expected = doubles(ref, 'hessian');
    const scale = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(scale > 0);
    h.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) <= 1e-12 * scale, `H[${i}] = ${v}, NumPy ${expected[i]}`));
    const x = Float32Array.from({ length: 40 * 9 }, (_, i) => (i % 5) - 2);
    x[17 * 9 + 4] = NaN;
    const hn = gather(new KernelHessian(9, make()), x, []);
    for (let i = 0; i < 9; i++) for (let j = 0; j < 9; j++) assert.equal(Number.isNaN(hn[i * 9 + j]), i === 4 || j === 4, `H[${i}, ${j}]`);
  });
}

test('no rows give zeros; finished or short input is refused; a reused kernel starts from zero', () => {
  const kernel = new GemmKernel(false);
  const first = new KernelHessian(3, kernel);
  first.add(new Float32Array([1, 2, 3]), 1);
  first.finish();
  const empty = new KernelHessian(3, kernel);
  assert.deepEqual(Array.from(empty.finish()), new Array(9).fill(0));
  assert.throws(() => empty.add(new Float32Array(3), 1), /already finished/);
  assert.throws(() => empty.finish(), /already finished/);
  assert.throws(() => new KernelHessian(3).add(new Float32Array(5), 2), /2 rows of 3 need 6 values, got 5/);
  assert.throws(() => new KernelHessian(0), /positive integer/);
});

test('hessianSum: the kernel from K = 128 with the kernels on, the reference otherwise', () => {
  assert.ok(hessianSum(128) instanceof KernelHessian);
  assert.ok(hessianSum(127) instanceof HessianAccumulator);
  useKernels(false);
  try {
    assert.ok(hessianSum(4096) instanceof HessianAccumulator);
  } finally {
    useKernels(true);
  }
});
