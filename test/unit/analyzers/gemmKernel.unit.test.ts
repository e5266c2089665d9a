/**
 * The WebAssembly matrix multiply (gemmKernel) against a plain JavaScript product and against
 * NumPy's (test/fixtures/make_gemm_fixture.py): float32 and float64, both signs, transposed and
 * strided sub-blocks, the lower-triangle variant, sizes of 0, 1 and not multiples of the
 * micro-tile or of the cache blocks, NaN and ±Inf reaching exactly the outputs they touch,
 * denormals kept (not flushed to zero), C done in bands of rows when the copies would be large,
 * operands already in the kernel's memory used where they lie (the same result to the bit; all
 * three or none), and the fused multiply-add variant where the engine has it.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { GemmKernel, gemmKernel, hasFusedMultiplyAdd, type Floats, type Operand } from '../../../src/analyzers/wasm/gemmKernel';
import { parseNpz, npyToFloat32, type NpyArray } from '../../../src/core/npy';
import { seededRandom } from '../../../src/core/random';
import { repoRoot } from '../../helpers/paths';

/** op(X)[i][j] of an operand. */
function at(x: Operand<Floats>, i: number, j: number): number {
  const [r, c] = x.transposed ? [j, i] : [i, j];
  return x.data[(x.offset ?? 0) + r * x.stride + c];
}

/** op(X) as a dense rows × cols float64 array. */
function dense(x: Operand<Floats>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = at(x, i, j);
  return out;
}

/** The JavaScript reference: C += sign·op(A)·op(B), float64 sums (rounded once into a float32 C). */
function reference(sign: number, m: number, n: number, k: number, a: Operand<Floats>, b: Operand<Floats>, c: Operand<Floats>): void {
  const da = dense(a, m, k);
  const db = dense(b, k, n);
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const x = da[i * k + p];
      for (let j = 0; j < n; j++) row[j] += x * db[p * n + j];
    }
    for (let j = 0; j < n; j++) c.data[(c.offset ?? 0) + i * c.stride + j] += sign * row[j];
  }
}

// 'banded': copies limited to 8 KiB, so C is done 4 rows at a time.
const kernels: [string, GemmKernel][] = [['plain', new GemmKernel(false)], ['banded', new GemmKernel(false, { budget: 8192, minRows: 4 })]];
if (hasFusedMultiplyAdd()) kernels.push(['fused', new GemmKernel(true)]);

type FloatType = Float32ArrayConstructor | Float64ArrayConstructor;

function filled(Type: FloatType, length: number, seed: number): Floats {
  const random = seededRandom(seed);
  const out = new Type(length);
  for (let i = 0; i < length; i++) out[i] = random() * 2 - 1;
  return out;
}

/** Largest |ours − theirs| over C, relative to k·max|a|·max|b| (1 here) and type's epsilon. */
function assertClose(ours: Floats, theirs: Floats, k: number, eps: number, label: string): void {
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i] - theirs[i]);
    if (!(d <= 4 * Math.max(k, 1) * eps * (1 + Math.abs(theirs[i])))) assert.fail(`${label}: C[${i}] ${ours[i]} vs ${theirs[i]}`);
  }
}

const SIZES: [number, number, number][] = [
  [0, 5, 3], [5, 0, 3], [5, 3, 0], [1, 1, 1], [1, 9, 1], [9, 1, 4], [4, 8, 256], [7, 13, 5], [5, 9, 257], [67, 131, 300], [130, 1030, 40],
];

for (const [name, kernel] of kernels) {
  for (const Type of [Float32Array, Float64Array] as FloatType[]) {
    const eps = Type === Float32Array ? 2 ** -24 : 2 ** -53;
    test(`${name} ${Type.name}: op(A)·op(B) of every shape, sign and transposition, in strided sub-blocks`, () => {
      let seed = 1;
      for (const [m, n, k] of SIZES) {
        for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]]) {
          for (const sign of [1, -1] as const) {
            // Each operand sits inside a larger array, two columns and one row in, stride +3.
            const [ar, ac] = ta ? [k, m] : [m, k];
            const [br, bc] = tb ? [n, k] : [k, n];
            const a = { data: filled(Type, (ar + 1) * (ac + 3), seed++), offset: ac + 3 + 2, stride: ac + 3, transposed: ta };
            const b = { data: filled(Type, (br + 1) * (bc + 3), seed++), offset: bc + 3 + 2, stride: bc + 3, transposed: tb };
            const c = { data: filled(Type, (m + 1) * (n + 3), seed++), offset: n + 3 + 2, stride: n + 3 };
            const expected = { ...c, data: c.data.slice() };
            kernel.gemm(sign, m, n, k, a as Operand<Floats>, b as Operand<Floats>, c as Operand<Floats>);
            reference(sign, m, n, k, a, b, expected);
            assertClose(c.data, expected.data, k, eps, `${m}×${n}×${k} ${ta ? 'Aᵀ' : 'A'}·${tb ? 'Bᵀ' : 'B'} ${sign}`);
          }
        }
      }
    });

    test(`${name} ${Type.name}: the lower variant fills the lower triangle of A·Aᵀ`, () => {
      for (const [n, k] of [[1, 3], [13, 7], [70, 300], [133, 20]]) {
        const a = filled(Type, n * k, n);
        const ours = new Type(n * n);
        kernel.gemm(1, n, n, k, { data: a, stride: k }, { data: a, stride: k, transposed: true }, { data: ours, stride: n }, { lower: true });
        const full = new Type(n * n);
        reference(1, n, n, k, { data: a, stride: k }, { data: a, stride: k, transposed: true }, { data: full, stride: n });
        for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) assertClose(ours.subarray(i * n + j, i * n + j + 1), full.subarray(i * n + j, i * n + j + 1), k, eps, `${n}×${k} [${i}][${j}]`);
      }
    });

    test(`${name} ${Type.name}: NaN and ±Inf reach exactly the outputs they touch; denormals are kept`, () => {
      const m = 6, n = 10, k = 5;
      const a = filled(Type, m * k, 3);
      const b = filled(Type, k * n, 4);
      a[2 * k + 1] = NaN; // row 2 of C
      b[3 * n + 7] = Infinity; // column 7 of C: ±Inf, NaN on row 2
      const c = new Type(m * n);
      kernel.gemm(1, m, n, k, { data: a, stride: k }, { data: b, stride: n }, { data: c, stride: n });
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) {
          const v = c[i * n + j];
          if (i === 2) assert.ok(Number.isNaN(v), `C[2][${j}] = ${v}`);
          else if (j === 7) assert.equal(Math.abs(v), Infinity, `C[${i}][7] = ${v}`);
          else assert.ok(Number.isFinite(v), `C[${i}][${j}] = ${v}`);
        }
      }
      // Products of a denormal and 1 summed: the smallest float32 denormal is 2⁻¹⁴⁹.
      const tiny = Type === Float32Array ? 2 ** -149 : 2 ** -1074;
      const d = new Type(9 * 11).fill(tiny);
      const ones = new Type(11 * 8).fill(1);
      const out = new Type(9 * 8);
      kernel.gemm(1, 9, 8, 11, { data: d, stride: 11 }, { data: ones, stride: 8 }, { data: out, stride: 8 });
      for (const v of out) assert.equal(v, 11 * tiny);
    });
  }

  test(`${name}: the products NumPy computed (make_gemm_fixture.py)`, () => {
    const npz = parseNpz(fs.readFileSync(path.join(repoRoot, 'test/fixtures/gemm_reference.npz')));
    const get = (key: string): NpyArray => npz.get(key) ?? assert.fail(`gemm_reference.npz has no ${key}`);
    const float64 = (a: NpyArray): Float64Array => new Float64Array(new Uint8Array(a.data).buffer);
    for (const name of ['small', 'tiles', 'blocks']) {
      const a32 = npyToFloat32(get(`${name}__a`));
      const b32 = npyToFloat32(get(`${name}__b`));
      const [m, k] = get(`${name}__a`).shape;
      const n = get(`${name}__b`).shape[1];
      const c = float64(get(`${name}__c`));
      const gram = float64(get(`${name}__gram`));
      for (const Type of [Float32Array, Float64Array] as FloatType[]) {
        const eps = Type === Float32Array ? 2 ** -24 : 2 ** -53;
        const a = Type.from(a32);
        const b = Type.from(b32);
        const ours = new Type(m * n);
        kernel.gemm(1, m, n, k, { data: a, stride: k }, { data: b, stride: n }, { data: ours, stride: n });
        assertClose(ours, c, k, eps, `${name} ${Type.name}`);
        const g = new Type(m * m);
        kernel.gemm(1, m, m, k, { data: a, stride: k }, { data: a, stride: k, transposed: true }, { data: g, stride: m }, { lower: true });
        for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) assertClose(g.subarray(i * m + j, i * m + j + 1), gram.subarray(i * m + j, i * m + j + 1), k, eps, `${name} Gram ${Type.name}`);
      }
    }
  });
}

test('the shared kernel exists here, and mixed element types are refused', () => {
  const kernel = gemmKernel();
  assert.ok(kernel);
  assert.throws(() => kernel.gemm(1, 1, 1, 1, { data: new Float32Array(1), stride: 1 } as Operand<Floats>, { data: new Float64Array(1), stride: 1 }, { data: new Float64Array(1), stride: 1 }), /one element type/);
});

test("operands in the kernel's memory are used where they lie: the copying product's result to the bit, lower half too; a mix is refused", () => {
  const [m, n, k] = [131, 70, 300];
  for (const lower of [false, true]) {
    for (const [ta, tb] of [[false, false], [true, true]]) {
      const size = lower ? m : n;
      const a = filled(Float64Array, m * k + 5, 1) as Float64Array;
      const b = filled(Float64Array, k * size + 5, 2) as Float64Array;
      const c = filled(Float64Array, m * size + 5, 3) as Float64Array;
      const copied = new GemmKernel(false, { budget: 8192, minRows: 6 }); // bands of 6 rows: the copies differ most
      const want = Float64Array.from(c);
      const [as, bs] = [ta ? m : k, tb ? k : size];
      copied.gemm(-1, m, size, k, { data: a, offset: 5, stride: as, transposed: ta }, { data: b, offset: 5, stride: bs, transposed: tb }, { data: want, offset: 5, stride: size }, { lower });
      const inside = new GemmKernel(false);
      const at = GemmKernel.free(3);
      inside.reserve(at + (a.length + b.length + c.length) * 8);
      const memory = inside.exports.memory.buffer;
      const [ra, rb, rc] = [new Float64Array(memory, at, a.length), new Float64Array(memory, at + a.length * 8, b.length), new Float64Array(memory, at + (a.length + b.length) * 8, c.length)];
      ra.set(a);
      rb.set(b);
      rc.set(c);
      inside.gemm(-1, m, size, k, { data: ra, offset: 5, stride: as, transposed: ta }, { data: rb, offset: 5, stride: bs, transposed: tb }, { data: rc, offset: 5, stride: size }, { lower });
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < (lower ? i + 1 : size); j++) assert.equal(rc[5 + i * size + j], want[5 + i * size + j], `lower ${lower}, transposed ${ta}: C[${i}, ${j}]`);
      }
      assert.notDeepEqual(Array.from(rc.subarray(5, 5 + size)), Array.from(c.subarray(5, 5 + size)));
      assert.throws(() => inside.gemm(1, m, size, k, { data: a, stride: as, transposed: ta }, { data: rb, stride: bs, transposed: tb }, { data: rc, stride: size }), /all be in the kernel's memory, or none/);
    }
  }
});
