/**
 * Language-model metrics: shifted next-token cross entropy (masked and -100 targets left out),
 * top-1 agreement and KL against a direct float64 computation; a model compared with itself has
 * agreement 1, KL 0 and no perplexity change.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { LanguageModelMetrics } from '../../../src/eval/lmMetrics';
import { fixedFloats } from '../../helpers/ort';

const S = 3;
const T = 5;
const V = 7;

function direct(logits: Float32Array, ids: number[], keep: (i: number) => boolean): { nll: number; n: number } {
  let nll = 0;
  let n = 0;
  for (let s = 0; s < S; s++) {
    for (let t = 0; t + 1 < T; t++) {
      const target = s * T + t + 1;
      if (!keep(target) || ids[target] < 0) continue;
      const row = Array.from(logits.subarray((s * T + t) * V, (s * T + t + 1) * V), Number);
      const z = row.reduce((a, x) => a + Math.exp(x), 0);
      nll += Math.log(z) - row[ids[target]];
      n++;
    }
  }
  return { nll, n };
}

test('perplexity, agreement and KL match a direct computation; masked and -100 targets do not count', () => {
  const base = Float32Array.from(fixedFloats(S * T * V, 1), (x) => 3 * x);
  const cand = Float32Array.from(base, (x, i) => x + 0.4 * fixedFloats(S * T * V, 2)[i]);
  const ids = Array.from({ length: S * T }, (_, i) => (i * 5) % V);
  ids[7] = -100;
  const mask = (i: number) => i !== 12;
  const m = new LanguageModelMetrics();
  m.add({ logits: cand, samples: S, seq: T, vocab: V }, { logits: base, samples: S, seq: T, vocab: V }, ids, mask);
  const r = m.result(true);
  const keep = (i: number) => mask(i) && ids[i] !== -100;
  const b = direct(base, ids, keep);
  const c = direct(cand, ids, keep);
  assert.equal(r.tokens, b.n);
  assert.equal(r.tokens, S * (T - 1) - 2);
  assert.ok(Math.abs(r.baseline!.perplexity - Math.exp(b.nll / b.n)) < 1e-9);
  assert.ok(Math.abs(r.candidate.perplexity - Math.exp(c.nll / c.n)) < 1e-9);
  assert.ok(r.agreement! > 0 && r.agreement! <= 1);
  assert.ok(r.klDivergence! > 0);
  assert.ok(r.perplexityDelta!.ci95[0] <= r.perplexityDelta!.value && r.perplexityDelta!.value <= r.perplexityDelta!.ci95[1]);
});

test('a model against itself: agreement 1, KL 0, perplexity unchanged', () => {
  const logits = Float32Array.from(fixedFloats(S * T * V, 3));
  const ids = Array.from({ length: S * T }, (_, i) => i % V);
  const m = new LanguageModelMetrics();
  const batch = { logits, samples: S, seq: T, vocab: V };
  m.add(batch, batch, ids);
  const r = m.result(true);
  assert.equal(r.agreement, 1);
  assert.ok(r.klDivergence! < 1e-12);
  assert.equal(r.perplexityDelta!.value, 0);
});
