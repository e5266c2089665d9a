/**
 * Where 1-D k-means time goes (issue 17): each stage of the clustering estimate on weights shaped
 * like the real ones (bell-shaped FP32, FP16-rounded, heavy-tailed), per tensor size.
 * The k-means column runs with the WebAssembly DP kernel, the next one with the JavaScript DP
 * (same results to the bit), alternately; then the DP alone, JavaScript against the kernel two
 * candidates at a time and one at a time (median of REPEATS, at least 5).
 * Run: node dist/bench/kmeansBench.js [REPEATS] [MODEL] (REPEATS 0: only the model's weights, one of each shape)
 */
import { COARSE_GROUPS, coarsen, kmeans1dEach } from '../src/analyzers/kmeans1d';
import { dpPrefixes, rowPlan, splitTableJs } from '../src/analyzers/kmeansDp';
import { KMeansKernel } from '../src/analyzers/wasm/kmeansKernel';
import { useKernels } from '../src/analyzers/wasm/kernelSwitch';
import { FloatBitBins, groupsFromSorted } from '../src/analyzers/momentGroups';
import { sortFloat32 } from '../src/analyzers/radixSort';

function weights(n: number, kind: 'fp32' | 'fp16' | 'heavy', seed = 7): Float32Array {
  let s = seed;
  const uniform = (): number => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 32);
  const out = new Float32Array(n);
  const half = new Float32Array(1);
  for (let i = 0; i < n; i++) {
    const bell = (uniform() + uniform() + uniform() + uniform() - 2) * 0.05;
    const x = kind === 'heavy' ? bell * (1 + 30 * uniform() ** 8) : bell;
    if (kind === 'fp16') {
      // round to 11 significant bits, the precision of FLOAT16 in its normal range
      half[0] = x;
      const e = Math.floor(Math.log2(Math.abs(x) || 1));
      out[i] = Math.round(x / 2 ** (e - 10)) * 2 ** (e - 10);
    } else out[i] = x;
  }
  return out;
}

function ms(t0: bigint): string {
  return (Number(process.hrtime.bigint() - t0) / 1e6).toFixed(1).padStart(8);
}

const repeats = Number(process.argv[2] ?? 1);
console.log('weights     kind    groups  groups   coarsen  k=4,16,256 (ms)  with the JavaScript DP');
for (const [n, kind] of [[2048, 'fp32'], [36_864, 'fp32'], [589_824, 'fp32'], [589_824, 'fp16'], [4_194_304, 'fp32'], [4_194_304, 'heavy']] as const) {
  for (let r = 0; r < repeats; r++) {
    const v = weights(n, kind);
    let t = process.hrtime.bigint();
    let groups;
    let line = '';
    if (n <= 65536) {
      groups = groupsFromSorted(sortFloat32(v));
    } else {
      const h = new FloatBitBins();
      h.add(v);
      groups = h.groups();
    }
    line += ms(t);
    t = process.hrtime.bigint();
    const coarse = coarsen(groups, COARSE_GROUPS);
    line += ms(t);
    t = process.hrtime.bigint();
    kmeans1dEach(groups, [4, 16, 256], { coarse });
    line += ms(t);
    useKernels(false);
    t = process.hrtime.bigint();
    kmeans1dEach(groups, [4, 16, 256], { coarse });
    line += `        ${ms(t)}`;
    useKernels(true);
    console.log(`${String(n).padStart(9)}   ${kind.padEnd(6)}${String(groups.count.length).padStart(8)}   ${line}`);
  }
}

/** The DP alone on each shape's coarse groups (as kmeans1dEach runs it), median ms of each way. */
function dpAlone(): void {
  const kernel = new KMeansKernel();
  const rounds = Math.max(5, repeats);
  console.log('\nthe DP alone (median ms)   JavaScript   kernel f64x2   ratio   kernel scalar   ratio');
  for (const [n, kind] of [[589_824, 'fp32'], [4_194_304, 'heavy']] as const) {
    const bins = new FloatBitBins();
    bins.add(weights(n, kind));
    const coarse = coarsen(bins.groups(), COARSE_GROUPS);
    for (const [ks, g] of [[[4, 16], coarse], [[256], coarsen(coarse, 512)]] as const) {
      const p = dpPrefixes(g);
      const plan = rowPlan(g.count.length, ks);
      const times: number[][] = [[], [], []];
      for (let r = 0; r < rounds; r++) {
        const ways = [(): unknown => splitTableJs(p, plan), (): unknown => kernel.splits(p, plan, true), (): unknown => kernel.splits(p, plan, false)];
        ways.forEach((f, w) => {
          const t = process.hrtime.bigint();
          f();
          times[w].push(Number(process.hrtime.bigint() - t) / 1e6);
        });
      }
      const [js, simd, scalar] = times.map((x) => x.sort((a, b) => a - b)[x.length >> 1]);
      const label = `${n} ${kind}, ${g.count.length} groups, k=${ks.join(',')}`;
      console.log(`${label.padEnd(36)}${js.toFixed(2).padStart(7)}${simd.toFixed(2).padStart(15)}${(js / simd).toFixed(2).padStart(8)}${scalar.toFixed(2).padStart(16)}${(js / scalar).toFixed(2).padStart(8)}`);
    }
  }
}
if (repeats > 0) dpAlone();

/** With a model: for its largest weights, statistics alone against statistics + redundancy (quantization and k-means), and k-means alone. */
async function modelShare(file: string): Promise<void> {
  const { openModel } = await import('../src/core/onnx/model');
  const { computeTensorStats } = await import('../src/analyzers/tensorStats');
  const { readRealFloat32 } = await import('../src/analyzers/realValues');
  const model = openModel(file);
  const seen = new Set<string>();
  const tensors = [...model.index.tensors].filter((t) => t.elements >= 65536 && !seen.has(`${t.dims}`) && seen.add(`${t.dims}`));
  console.log(`\n${file}: one tensor of each shape (ms, CPU of this thread)`);
  console.log('tensor                         dims           stats   +redundancy   k-means (groups + k = 4, 16, 256)');
  const cpu = (f: () => Promise<unknown>): Promise<number> => {
    const t0 = process.cpuUsage();
    return f().then(() => (process.cpuUsage(t0).user + process.cpuUsage(t0).system) / 1000);
  };
  for (const t of tensors) {
    const stats = await cpu(() => computeTensorStats(t, { redundancy: false }));
    const full = await cpu(() => computeTensorStats(t, { redundancy: true, channelAxis: 0 }));
    const values = await readRealFloat32(t, undefined);
    const kmeans = await cpu(async () => {
      const bins = new FloatBitBins();
      bins.add(values);
      kmeans1dEach(bins.groups(), [4, 16, 256]);
    });
    console.log(`${t.name.slice(0, 30).padEnd(30)} ${`[${t.dims.join(',')}]`.padEnd(14)}${stats.toFixed(0).padStart(6)}${full.toFixed(0).padStart(14)}${kmeans.toFixed(0).padStart(10)}`);
  }
}
if (process.argv[3]) void modelShare(process.argv[3]);
