// Loss recovered (SPEC §10, src/lm/lossRecovered.ts): a hand-worked case with printed numbers, the
// streamed CE/KL against the direct log-softmax formulas, SAELens's mask inside a packed row, and the
// exact edge cases on a random tiny model through the float64 reference forward (identity SAE → 1 and
// 1, zero reconstruction → 0 and 0).
import { describe, expect, it } from 'vitest';
import { Rng } from '../../../src/data/rng';
import {
  ignoredTokenIds,
  keepMask,
  klFromLogits,
  logSoftmax,
  LossRecoveredAccumulator,
  lossRecoveredReference,
  nextTokenTargets,
  probeTokens,
  spliceReconstruction,
  TokenLossStream,
} from '../../../src/lm/lossRecovered';
import { forwardReference } from '../../../src/lm/reference/forward';
import { NO_TARGET } from '../../../src/lm/twins/ceKl';
import { referenceForward } from '../../../src/sae/reference/forward';
import { randomIds, randomModel } from '../../fixtures/lm/randomModel';

const ln = Math.log;

/** Streams [N, V] logits through TokenLossStream in chunks of `step` columns. */
function stream(
  N: number,
  V: number,
  targets: Uint32Array,
  clean: number[][],
  news: number[][][],
  step: number,
) {
  const s = new TokenLossStream(N, news.length, targets, V);
  const cols = (z: number[][], v0: number, c: number) => z.flatMap((row) => row.slice(v0, v0 + c));
  for (let v0 = 0; v0 < V; v0 += step) {
    const c = Math.min(step, V - v0);
    s.addChunk(
      v0,
      c,
      c,
      cols(clean, v0, c),
      news.map((z) => cols(z, v0, c)),
    );
  }
  return s.finish();
}

describe('hand-worked: one row of two tokens, a three-word vocabulary', () => {
  // Vocabulary {a, b, c}; the row is [a, c]: position 0 predicts c (CE and KL), position 1 is the last
  // (KL only). Logits are log-probabilities plus a per-row constant (softmax ignores it).
  //   pos 0  clean p = (1/4, 1/4, 1/2)   SAE q = (1/4, 1/2, 1/4)   ablated r = (1/2, 3/8, 1/8)
  //   pos 1  clean p = (1/3, 1/3, 1/3)   SAE q = p                 ablated r = (1/2, 1/4, 1/4)
  // CE (pos 0, target c): clean −ln ½ = ln 2 = 0.693147, SAE ln 4 = 1.386294, ablated ln 8 = 2.079442
  //   ce_loss_score = (ln 8 − ln 4)/(ln 8 − ln 2) = 0.5
  // KL pos 0: KL(p‖q) = ¼ln1 + ¼ln½ + ½ln2 = ¼ln2 = 0.173287
  //           KL(p‖r) = ¼ln½ + ¼ln(2/3) + ½ln4 = ln2 − ¼ln3 = 0.418494
  // KL pos 1: KL(p‖q) = 0;  KL(p‖r) = ⅓(ln(2/3) + 2ln(4/3)) = (5/3)ln2 − ln3 = 0.056633
  // Means over both positions: KL_sae = ⅛ln2 = 0.086643, KL_abl = ½((8/3)ln2 − (5/4)ln3) = 0.237564
  //   kl_div_score = 1 − 0.086643/0.237564 = 0.635283
  const lg = (p: number[], shift: number) => p.map((v) => ln(v) + shift);
  const clean = [lg([1 / 4, 1 / 4, 1 / 2], 3), lg([1 / 3, 1 / 3, 1 / 3], -7)];
  const sae = [lg([1 / 4, 1 / 2, 1 / 4], 0.5), lg([1 / 3, 1 / 3, 1 / 3], 11)];
  const abl = [lg([1 / 2, 3 / 8, 1 / 8], -2), lg([1 / 2, 1 / 4, 1 / 4], 40)];
  const ids = Int32Array.from([0, 2]);

  for (const step of [1, 2, 3])
    it(`the printed numbers, streamed ${step} column(s) at a time`, () => {
      const targets = nextTokenTargets(ids, 1, 2, 3);
      expect(Array.from(targets)).toEqual([2, NO_TARGET]);
      const t = stream(2, 3, targets, clean, [sae, abl], step);
      expect(t.ceClean[0]).toBeCloseTo(ln(2), 12);
      expect(t.ce[0][0]).toBeCloseTo(ln(4), 12);
      expect(t.ce[1][0]).toBeCloseTo(ln(8), 12);
      expect(Number.isNaN(t.ceClean[1])).toBe(true);
      expect(t.kl[0][0]).toBeCloseTo(ln(2) / 4, 12);
      expect(t.kl[1][0]).toBeCloseTo(ln(2) - ln(3) / 4, 12);
      expect(t.kl[0][1]).toBeCloseTo(0, 12);
      expect(t.kl[1][1]).toBeCloseTo((5 / 3) * ln(2) - ln(3), 12);

      const acc = new LossRecoveredAccumulator();
      acc.add(
        { ceClean: t.ceClean, ceSae: t.ce[0], ceAbl: t.ce[1], klSae: t.kl[0], klAbl: t.kl[1] },
        keepMask(ids, []),
        1,
        2,
      );
      const m = acc.metrics();
      expect(m.ce_loss_without_sae).toBeCloseTo(0.693147, 6);
      expect(m.ce_loss_with_sae).toBeCloseTo(1.386294, 6);
      expect(m.ce_loss_with_ablation).toBeCloseTo(2.079442, 6);
      expect(m.ce_loss_score).toBeCloseTo(0.5, 12);
      expect(m.kl_div_with_sae).toBeCloseTo(0.086643, 6);
      expect(m.kl_div_with_ablation).toBeCloseTo(0.237564, 6);
      expect(m.kl_div_score).toBeCloseTo(0.635283, 6);
      expect([m.ce_tokens, m.kl_tokens, m.total_tokens_eval_reconstruction]).toEqual([1, 2, 2]);
    });
});

describe('streamed over vocabulary chunks = the direct log-softmax formulas', () => {
  it('random logits with large magnitudes, chunks of 1, 7, 50 and V', () => {
    const rng = new Rng(3, 1);
    const N = 6;
    const V = 50;
    // Rows far from 0 (±80) and a row whose maximum sits in the last chunk: a naive exp overflows in
    // float32 and a wrong rescale shows at once.
    const row = (scale: number, off: number) => Array.from({ length: V }, () => off + scale * rng.normal());
    const clean = [row(3, 80), row(3, -80), row(0.1, 0), row(10, 0), row(1, 5), row(2, -3)];
    clean[3][V - 1] = 60;
    const news = [clean.map((r) => r.map((v) => v + 0.3 * rng.normal())), clean.map(() => row(2, 1))];
    const ids = Int32Array.from({ length: N }, () => rng.int(V));
    const targets = nextTokenTargets(ids, 2, 3, V);
    const want = (k: number) =>
      clean.map((zc, n) => ({
        ce: targets[n] === NO_TARGET ? NaN : -logSoftmax(news[k][n])[targets[n]],
        kl: klFromLogits(zc, news[k][n]),
      }));
    for (const step of [1, 7, 50, V]) {
      const t = stream(N, V, targets, clean, news, step);
      for (let n = 0; n < N; n++) {
        if (targets[n] !== NO_TARGET) expect(t.ceClean[n]).toBeCloseTo(-logSoftmax(clean[n])[targets[n]], 10);
        for (const k of [0, 1]) {
          const w = want(k)[n];
          if (targets[n] !== NO_TARGET) expect(t.ce[k][n]).toBeCloseTo(w.ce, 10);
          expect(t.kl[k][n]).toBeCloseTo(w.kl, 10);
          expect(t.kl[k][n]).toBeGreaterThan(0);
        }
      }
    }
  });

  it('refuses chunks out of order, past the vocabulary, or an unfinished stream', () => {
    const targets = Uint32Array.from([1, NO_TARGET]);
    const z = [0, 0, 0, 0];
    const s = new TokenLossStream(2, 1, targets, 4);
    expect(() => s.addChunk(2, 2, 2, z, [z])).toThrow(/starts at 2, expected 0/);
    s.addChunk(0, 2, 2, z, [z]);
    expect(() => s.finish()).toThrow(/only columns 0\.\.1 of 4/);
    expect(() => s.addChunk(2, 3, 3, [0, 0, 0, 0, 0, 0], [[0, 0, 0, 0, 0, 0]])).toThrow(
      /outside the vocabulary/,
    );
    expect(() => nextTokenTargets([0, 9], 1, 2, 4)).toThrow(
      /token id 9 at 1 is outside the vocabulary 0\.\.3/,
    );
  });
});

describe("SAELens's mask: positions whose input token is BOS, EOS or pad are left out", () => {
  // Llama-like special ids: pad 0, BOS 1, EOS 2. Two packed rows of T = 10 (SAELens packing puts BOS
  // at the start and between documents; pad can appear at a row's end).
  const T = 10;
  const rowA = [1, 5, 6, 2, 1, 7, 8, 0, 0, 9];
  const rowB = [1, 4, 4, 4, 4, 4, 4, 4, 2, 4];
  const ids = Int32Array.from([...rowA, ...rowB]);
  const ignore = ignoredTokenIds({ bos_token_id: 1, eos_token_id: 2, pad_token_id: 0 });

  it('which positions count for CE and for KL', () => {
    expect(ignore.sort()).toEqual([0, 1, 2]);
    const keep = keepMask(ids, ignore);
    expect(Array.from(keep)).toEqual([0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 0, 1]);
    // Per-token values 2^i identify exactly which positions a mean took.
    const pow = Float64Array.from({ length: 2 * T }, (_, i) => 2 ** i);
    const zero = new Float64Array(2 * T);
    const acc = new LossRecoveredAccumulator();
    acc.add({ ceClean: pow, ceSae: zero, ceAbl: zero, klSae: pow, klAbl: zero }, keep, 2, T);
    const m = acc.metrics();
    const bits = (sum: number) => [...Array(2 * T).keys()].filter((i) => Math.floor(sum / 2 ** i) % 2 === 1);
    // CE: input token kept and t ≤ T − 2. Row A: 1 (5→6), 2 (6→EOS: the target may be special), 5, 6 (8→pad);
    // 9 is the row's last position. Row B: 11…17; 18 is EOS; 19 is the last.
    const ceKept = [1, 2, 5, 6, 11, 12, 13, 14, 15, 16, 17];
    expect(m.ce_tokens).toBe(ceKept.length);
    expect(bits(m.ce_loss_without_sae * m.ce_tokens)).toEqual(ceKept);
    // KL: input token kept, every t including T − 1.
    const klKept = [1, 2, 5, 6, 9, 11, 12, 13, 14, 15, 16, 17, 19];
    expect(m.kl_tokens).toBe(klKept.length);
    expect(bits(m.kl_div_with_sae * m.kl_tokens)).toEqual(klKept);
    expect(m.total_tokens_eval_reconstruction).toBe(20);
  });

  it('GPT-2 has one id for BOS, EOS and pad; a missing id is not a token', () => {
    expect(ignoredTokenIds({ bos_token_id: 50256, eos_token_id: 50256, pad_token_id: 50256 })).toEqual([
      50256,
    ]);
    expect(ignoredTokenIds({ bos_token_id: 7, eos_token_id: null, pad_token_id: null })).toEqual([7]);
  });

  it('the spliced activation keeps the original x at ignored positions', () => {
    const keep = Uint8Array.from([0, 1, 0]);
    const x = [1, 2, 3, 4, 5, 6];
    const xhat = [10, 20, 30, 40, 50, 60];
    expect(Array.from(spliceReconstruction(x, xhat, keep, 2))).toEqual([1, 2, 30, 40, 5, 6]);
    expect(() => spliceReconstruction(x, [1], keep, 2)).toThrow(/x̂ 1 values/);
  });
});

describe('exact edge cases through the float64 reference forward (random tiny models)', () => {
  const S = 2;
  const T = 8;
  for (const family of ['gpt2', 'llama'] as const)
    for (const hook of ['blocks.0.hook_resid_post', 'blocks.1.hook_mlp_out'])
      it(`${family} ${hook}: identity SAE → 1 and 1, zero reconstruction → 0 and 0`, () => {
        const model = randomModel({ family, seed: 11 });
        const V = model.config.vocab_size;
        // No special token in the rows: then a zero reconstruction is the ablation at every position.
        const ignore = ignoredTokenIds(model.config);
        const ids = randomIds(V, S, T, 4).map((t) => (ignore.includes(t) ? 5 : t));
        const id = lossRecoveredReference(model, ids, S, T, hook, (x) => x, { chunk: 8 });
        expect(id.metrics.ce_loss_score).toBe(1);
        expect(id.metrics.kl_div_score).toBe(1);
        expect(id.metrics.kl_div_with_sae).toBe(0);
        expect(id.metrics.ce_loss_with_sae).toBe(id.metrics.ce_loss_without_sae);
        // The ablation must change the loss for the scores to mean anything (on a random model with
        // random tokens it may lower the CE: the clean model is confidently wrong).
        expect(Math.abs(id.metrics.ce_loss_with_ablation - id.metrics.ce_loss_without_sae)).toBeGreaterThan(
          0.01,
        );
        expect(id.metrics.kl_div_with_ablation).toBeGreaterThan(0.01);

        const zero = lossRecoveredReference(model, ids, S, T, hook, (x) => new Float64Array(x.length), {
          chunk: 8,
        });
        expect(Math.abs(zero.metrics.ce_loss_score)).toBe(0); // exactly 0 (−0 when CE_abl < CE_clean)
        expect(Math.abs(zero.metrics.kl_div_score)).toBe(0);
        expect(zero.metrics.ce_loss_with_ablation).toBe(id.metrics.ce_loss_with_ablation);
        expect([zero.metrics.ce_tokens, zero.metrics.kl_tokens]).toEqual([S * (T - 1), S * T]);
      });

  it('a random ReLU SAE: the streamed metrics equal the direct formulas on the full logits; chunking does not matter', () => {
    const model = randomModel({ family: 'gpt2', seed: 12 });
    const c = model.config;
    const d = c.d_model;
    const m = 24;
    const rng = new Rng(9, 2);
    const w = {
      d_in: d,
      d_sae: m,
      W_enc: Float64Array.from({ length: d * m }, () => rng.normal() / Math.sqrt(d)),
      b_enc: Float64Array.from({ length: m }, () => -0.1),
      W_dec: Float64Array.from({ length: m * d }, () => rng.normal() / Math.sqrt(m)),
      b_dec: new Float64Array(d),
    };
    const sae = (x: Float64Array, N: number) =>
      referenceForward(w, { S: 1, T: N, d, x: Float32Array.from(x) }, { architecture: 'relu', k: 0 }).xhat;
    // BOS (= EOS for GPT-2, id V − 1) opens the row and separates two documents.
    const bos = c.bos_token_id!;
    const ids = Int32Array.from([bos, 3, 4, 5, bos, 6, 7, 8, bos, 9, 10, 11, 12, 13, 14, 15]);
    const whole = lossRecoveredReference(model, ids, 2, 8, 'blocks.0.hook_resid_pre', sae);
    const chunked = lossRecoveredReference(model, ids, 2, 8, 'blocks.0.hook_resid_pre', sae, { chunk: 5 });
    for (const [k, v] of Object.entries(whole.metrics))
      expect(chunked.metrics[k as keyof typeof whole.metrics]).toBeCloseTo(v, 12);
    expect(whole.metrics.ce_tokens).toBe(2 * 7 - 3);
    expect(whole.metrics.kl_tokens).toBe(16 - 3);
    // At the BOS positions the spliced run saw the clean activation.
    for (const n of [0, 4, 8])
      for (let j = 0; j < d; j++) expect(whole.spliced[n * d + j]).toBe(whole.x[n * d + j]);
    // Direct, independent of the stream: full-vocabulary log-softmax on the reference forward's logits.
    const V = c.vocab_size;
    const cleanZ = forwardReference(model, ids, 2, 8).logits;
    const saeZ = forwardReference(model, ids, 2, 8, {
      patch: { hook: 'blocks.0.hook_resid_pre', values: whole.spliced },
    }).logits;
    let ce = 0;
    let kl = 0;
    let nCe = 0;
    let nKl = 0;
    for (let n = 0; n < 16; n++) {
      if (ids[n] === bos) continue;
      kl += klFromLogits(cleanZ, saeZ, n * V, V);
      nKl++;
      if (n % 8 === 7) continue;
      ce += -logSoftmax(saeZ, n * V, V)[ids[n + 1]];
      nCe++;
    }
    expect(whole.metrics.ce_loss_with_sae).toBeCloseTo(ce / nCe, 12);
    expect(whole.metrics.kl_div_with_sae).toBeCloseTo(kl / nKl, 12);
    expect(whole.metrics.kl_div_with_sae).toBeGreaterThan(0);
  });
});

describe('TransformerLens centring in the reference', () => {
  it('the SAE reads rows with mean 0; the clean and ablated losses do not change; Llama refuses', () => {
    const model = randomModel({ family: 'gpt2', seed: 13 });
    const d = model.config.d_model;
    const ids = randomIds(model.config.vocab_size, 2, 6, 3);
    const hook = 'blocks.0.hook_resid_post';
    let seen: Float64Array | null = null;
    const shift = (x: Float64Array) => ((seen = x), x.map((v) => v + 0.5));
    const c = lossRecoveredReference(model, ids, 2, 6, hook, shift, { center: true });
    const rowMeans = Array.from(
      { length: 12 },
      (_, n) => seen!.subarray(n * d, (n + 1) * d).reduce((a, b) => a + b, 0) / d,
    );
    for (const mu of rowMeans) expect(Math.abs(mu)).toBeLessThan(1e-12);
    const u = lossRecoveredReference(model, ids, 2, 6, hook, shift);
    expect(c.metrics.ce_loss_without_sae).toBe(u.metrics.ce_loss_without_sae);
    expect(c.metrics.ce_loss_with_ablation).toBe(u.metrics.ce_loss_with_ablation);
    // x̂ = x + 0.5 is a per-token constant shift: LayerNorm ignores it, centred or not.
    expect(c.metrics.kl_div_with_sae).toBeLessThan(1e-12);
    expect(u.metrics.kl_div_with_sae).toBeLessThan(1e-12);
    const llama = randomModel({ family: 'llama', seed: 13 });
    expect(() => lossRecoveredReference(llama, ids, 2, 6, hook, (x) => x, { center: true })).toThrow(
      /LayerNorm/,
    );
  });
});

describe('probeTokens: the live probe table', () => {
  it('hand-worked: three tokens, d 2, four features', () => {
    // x, x̂ per token (d = 2) and f per token (m = 4); features 1 and 2 tie at token 1 (lower index first).
    const x = [3, 4, 1, 0, 0, 0];
    const xhat = [3, 3, 0.5, 0, 0, 0];
    const f = [0, 2, 0, 1, 0, 5, 5, 0, 0, 0, 0, 0];
    const rows = probeTokens({
      ids: [7, 8, 9],
      x,
      xhat,
      f,
      d: 2,
      m: 4,
      ceClean: [1, 2, 99],
      ceSae: [1.5, 1.75, 99],
      klSae: [0.1, 0.2, 0.3],
      keep: Uint8Array.from([0, 1, 1]),
      topK: 2,
    });
    // Token 0: ‖x − x̂‖² = 1, ‖x‖² = 25 → 0.04; features 1 (2) then 3 (1); deltas from f_{−1} = 0.
    expect(rows[0]).toMatchObject({
      position: 0,
      id: 7,
      kept: false,
      reconError: 0.04,
      l0: 2,
      dCe: 0.5,
      klSae: 0.1,
    });
    expect(rows[0].top).toEqual([
      { feature: 1, value: 2, delta: 2 },
      { feature: 3, value: 1, delta: 1 },
    ]);
    // Token 1: 0.25/1; features 1 and 2 tie at 5: index 1 first; deltas 5 − 2 = 3 and 5 − 0 = 5.
    expect(rows[1]).toMatchObject({ kept: true, reconError: 0.25, l0: 2, dCe: -0.25 });
    expect(rows[1].top).toEqual([
      { feature: 1, value: 5, delta: 3 },
      { feature: 2, value: 5, delta: 5 },
    ]);
    // Token 2: x = x̂ = 0 → error 0, nothing active, no next token.
    expect(rows[2]).toMatchObject({ reconError: 0, l0: 0, top: [] });
    expect([rows[2].ceClean, rows[2].ceSae, rows[2].dCe].every(Number.isNaN)).toBe(true);
    expect(() =>
      probeTokens({
        ...{ ids: [1], x: [1], xhat: [1], f: [1], d: 2, m: 1 },
        ceClean: [0],
        ceSae: [0],
        klSae: [0],
        keep: Uint8Array.of(1),
      }),
    ).toThrow(/x 1, x̂ 1, f 1 values for 1 tokens/);
  });
});
