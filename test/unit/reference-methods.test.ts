// Float64 references of issue 14's methods: BatchTopK selection and threshold (hand-worked), the
// Matryoshka prefix loss (hand-worked, G = 1 equals SPEC §4's L_recon, finite differences), T-SAE's
// symmetric InfoNCE (hand-worked, finite differences for 'dot' and 'cosine'), and each whole method's
// gradient with the adaptive temporal penalty against finite differences (selection held fixed).
import { describe, expect, it } from 'vitest';
import { compareClose } from '../helpers/parity';
import {
  batchTopkActive,
  batchTopkExportThreshold,
  batchTopkMinActive,
  thresholdActive,
  updateBatchTopkThreshold,
} from '../../src/sae/reference/batchTopk';
import { adjacentPairs, infoNceLoss } from '../../src/sae/reference/infonce';
import { matryoshkaEnds, matryoshkaLoss } from '../../src/sae/reference/matryoshka';
import {
  methodObjective,
  methodStep,
  type MethodName,
  type MethodTrainConfig,
} from '../../src/sae/reference/methods';
import { initRefState, referenceForward } from '../../src/sae/reference';
import { planTokens } from '../../src/sae/reference/tokens';
import { reconLoss } from '../../src/sae/reference/objective';
import { DEFAULT_CONFIG } from '../../src/sae/config';
import { Rng } from '../../src/data/rng';
import { finiteDiff, makeBatch, randomWeights } from './referenceFixtures';

// Central differences with h = 1e-6 in float64 (see reference.test.ts): 1e-7 + 1e-6·|g| is loose for a
// right gradient and far below a missing term.
const ATOL = 1e-7;
const RTOL = 1e-6;
const close = (name: string, a: ArrayLike<number>, b: ArrayLike<number>) => {
  const r = compareClose(name, a, b, ATOL, RTOL);
  expect(r.ok, r.message).toBe(true);
};

/** Central differences of loss(v) for every element of v. */
function fdVector(v: Float64Array, loss: () => number, h = 1e-6): Float64Array {
  const g = new Float64Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const o = v[i];
    v[i] = o + h;
    const lp = loss();
    v[i] = o - h;
    const lm = loss();
    v[i] = o;
    g[i] = (lp - lm) / (2 * h);
  }
  return g;
}

describe('BatchTopK', () => {
  it('keeps the k·N largest positive entries over the batch, ties to the lower flat index', () => {
    // N = 2, m = 3, k = 1 → 2 entries: 3 (flat 0) and 2 (flat 4); row 1 gets 1, row 0 gets 1 here.
    expect(Array.from(batchTopkActive([3, -1, 1, 0.5, 2, 0], 2, 3, 1, [1, 1]))).toEqual([1, 0, 0, 0, 1, 0]);
    // The budget is per batch, not per row: row 0 may take both.
    expect(Array.from(batchTopkActive([3, 2.5, 1, 0.5, 2, 0], 2, 3, 1, [1, 1]))).toEqual([1, 1, 0, 0, 0, 0]);
    // Padding rows neither count for k·N nor compete.
    expect(Array.from(batchTopkActive([3, -1, 1, 9, 2, 0], 2, 3, 1, [1, 0]))).toEqual([1, 0, 0, 0, 0, 0]);
    // Tie between flat 1 and flat 3 (both 1): the lower index wins.
    expect(Array.from(batchTopkActive([2, 1, 0, 1, 0, 0], 2, 3, 1, [1, 1]))).toEqual([1, 1, 0, 0, 0, 0]);
    // Fewer positives than k·N: only the positives.
    expect(Array.from(batchTopkActive([-1, 0, 0.1, 0, 0, -2], 2, 3, 2, [1, 1]))).toEqual([0, 0, 1, 0, 0, 0]);
  });

  it('threshold: the first update takes the minimum, then an EMA; inference is a strict JumpReLU', () => {
    expect(batchTopkMinActive([0, 0.7, 0.2, 0, 5, 0.1], 2, 3, [1, 0])).toBe(0.2);
    expect(batchTopkMinActive([0, 0, 0], 1, 3, [1])).toBe(0);
    let s = updateBatchTopkThreshold({ theta: null }, 0.2, 0.999);
    expect(s.theta).toBe(0.2);
    s = updateBatchTopkThreshold(s, 1.2, 0.999);
    expect(s.theta).toBeCloseTo(0.999 * 0.2 + 0.001 * 1.2, 15);
    expect(Array.from(thresholdActive([0.2, 0.3, -1, 0.2000001], 0.2))).toEqual([0, 1, 0, 1]);
    expect(Array.from(batchTopkExportThreshold(0.25, 3))).toEqual([0.25, 0.25, 0.25]);
  });
});

describe('Matryoshka prefixes', () => {
  it('group sizes as the trainer computes them', () => {
    expect(matryoshkaEnds(10, [0.2, 0.8])).toEqual([2, 10]);
    expect(matryoshkaEnds(7, [0.2, 0.8])).toEqual([1, 7]);
    expect(matryoshkaEnds(100, [0.25, 0.25, 0.5])).toEqual([25, 50, 100]);
    expect(() => matryoshkaEnds(10, [0.5, 0.4])).toThrow(/sum to 1/);
    expect(() => matryoshkaEnds(3, [0.2, 0.8])).toThrow(/empty/);
  });

  it('hand-worked: d = 1, two features, weights 0.2 / 0.8', () => {
    // W_dec = [1, 2], b_dec = 0, x = 3, f = (1, 1): x̂⁽¹⁾ = 1 (L = 4), x̂⁽²⁾ = 3 (L = 0).
    // L_mat = (0.2·4 + 0.8·0)/2 = 0.4. C⁽²⁾ = 0, C⁽¹⁾ = (0.2/2)·2·(1 − 3) = −0.4 → ∂f = (−0.4, 0).
    const r = matryoshkaLoss([3], [1, 1], [1, 2], [0], 1, 1, 2, [1], [1, 2], [0.2, 0.8]);
    expect(r.loss).toBeCloseTo(0.4, 14);
    expect(r.prefixRecon).toEqual([4, 0]);
    expect(r.gF[0]).toBeCloseTo(-0.4, 14);
    expect(r.gF[1]).toBeCloseTo(0, 14);
    expect(r.gb_dec[0]).toBeCloseTo(-0.4, 14);
    expect(Array.from(r.gW_dec)).toEqual([-0.4, 0].map((v) => expect.closeTo(v, 14)));
  });

  it('one prefix with weight 1 is SPEC §4 L_recon', () => {
    const w = randomWeights(5, 7, 3);
    const batch = makeBatch(2, 4, 5, 4, { pads: [[1, 3]] });
    const fwd = referenceForward(w, batch, { architecture: 'relu', k: 0 });
    const plan = planTokens(batch, 'zero');
    const r = matryoshkaLoss(batch.x, fwd.f, w.W_dec, w.b_dec, 8, 5, 7, plan.valid, [7], [1]);
    expect(r.loss).toBeCloseTo(reconLoss(batch.x, fwd, plan, 5, 'squared'), 12);
  });

  it('gradients = finite differences (f, W_dec, b_dec), three groups, padding', () => {
    const rng = new Rng(5);
    const N = 6,
      d = 3,
      m = 8;
    const x = Float64Array.from({ length: N * d }, () => rng.normal());
    const f = Float64Array.from({ length: N * m }, () => (rng.next() < 0.5 ? rng.next() * 2 : 0));
    const W = Float64Array.from({ length: m * d }, () => rng.normal());
    const b = Float64Array.from({ length: d }, () => rng.normal());
    const valid = [1, 1, 0, 1, 1, 1];
    const ends = [2, 5, 8],
      wts = [0.5, 0.3, 0.2];
    const L = () => matryoshkaLoss(x, f, W, b, N, d, m, valid, ends, wts).loss;
    const r = matryoshkaLoss(x, f, W, b, N, d, m, valid, ends, wts);
    close('∂f', r.gF, fdVector(f, L));
    close('∂W_dec', r.gW_dec, fdVector(W, L));
    close('∂b_dec', r.gb_dec, fdVector(b, L));
  });
});

describe('InfoNCE (T-SAE contrastive term)', () => {
  it('hand-worked: two pairs, H = 1, dot, τ = 1', () => {
    // a = (1, 0), b = (1, 0): S = [[1, 0], [0, 0]]. Rows and columns: lse(1, 0) = log(e + 1), lse(0, 0) = log 2.
    // L = ½·½·[2(log(e + 1) − 1) + 2 log 2] = ½(log(e + 1) − 1 + log 2).
    // Rows (cur, prev) = (1, 0) and (3, 2) of f with m = 2; the second column is outside H.
    const f = [1, 9, 1, 9, 0, 9, 0, 9];
    const r = infoNceLoss(f, 2, 1, [1, 3], [0, 2], 1, 'dot');
    expect(r.pairs).toBe(2);
    expect(r.loss).toBeCloseTo(0.5 * (Math.log(Math.E + 1) - 1 + Math.log(2)), 14);
    // Beyond H there is no gradient.
    for (let n = 0; n < 4; n++) expect(r.gF[n * 2 + 1]).toBe(0);
    // One pair: the softmax is over one entry, L = 0.
    expect(infoNceLoss(f, 2, 1, [1], [0], 1, 'dot').loss).toBe(0);
    expect(infoNceLoss(f, 2, 1, [], [], 1, 'dot').loss).toBe(0);
  });

  it('pairs are the valid adjacent pairs of the same document', () => {
    const batch = makeBatch(2, 4, 1, 1, { starts: [[0, 2]], pads: [[1, 3]] });
    const { cur, prev } = adjacentPairs(planTokens(batch, 'zero').hasPrev);
    expect(Array.from(cur)).toEqual([1, 3, 5, 6]);
    expect(Array.from(prev)).toEqual([0, 2, 4, 5]);
  });

  for (const sim of ['dot', 'cosine'] as const)
    it(`gradient = finite differences (${sim}, τ 0.5, shared rows, a zero code)`, () => {
      const rng = new Rng(7);
      const m = 5,
        H = 3,
        N = 7;
      const f = Float64Array.from({ length: N * m }, () => (rng.next() < 0.7 ? rng.next() : 0));
      // Row 4's high-level code is all zero (no high-level feature active): cosine 0 with all.
      for (let h = 0; h < H; h++) f[4 * m + h] = 0;
      const cur = [1, 2, 3, 5, 6],
        prev = [0, 1, 2, 4, 5];
      const L = () => infoNceLoss(f, m, H, cur, prev, 0.5, sim).loss;
      const r = infoNceLoss(f, m, H, cur, prev, 0.5, sim);
      const fd = fdVector(f, L);
      if (sim === 'cosine') for (let h = 0; h < H; h++) fd[4 * m + h] = r.gF[4 * m + h]; // not differentiable at 0
      close(`∂f (${sim})`, r.gF, fd);
      expect(r.loss).toBeGreaterThan(0);
    });
});

function methodCfg(method: MethodName, m: number): MethodTrainConfig {
  return {
    ...DEFAULT_CONFIG,
    seqs_per_batch: 2,
    context_size: 4,
    method,
    k: 3,
    prefix_ends: method === 'batchtopk' ? [m] : matryoshkaEnds(m, [0.25, 0.75]),
    prefix_weights: method === 'batchtopk' ? [1] : method === 'tsae' ? [0.2, 0.8] : [0.5, 0.5],
    contrastive_coefficient: method === 'tsae' ? 0.1 : 0,
    contrastive_temperature: 1,
    contrastive_similarity: 'dot',
    threshold_beta: 0.999,
    threshold_start_step: 0,
    temporal_coefficient: 0.3,
  };
}

describe('whole methods: gradient = finite differences (α frozen, selection fixed)', () => {
  for (const method of ['batchtopk', 'matryoshka_batchtopk', 'tsae'] as const)
    for (const [name, opts] of [
      ['plain', {}],
      ['doc start + padding', { starts: [[0, 2]], pads: [[1, 3]] }],
    ] as const)
      it(`${method}, ${name}`, () => {
        const m = 8;
        const cfg = methodCfg(method, m);
        const w = randomWeights(5, m, 21);
        const batch = makeBatch(2, 4, 5, 22, opts as Parameters<typeof makeBatch>[4]);
        const alpha = 0.7;
        const obj = methodObjective(w, batch, cfg, alpha);
        // The case is away from every kink: selected entries well above 0, non-zero D.
        const sel = Array.from(obj.pre).filter((_, k) => obj.active[k]);
        expect(Math.min(...sel)).toBeGreaterThan(1e-3);
        expect(obj.losses.l0).toBeCloseTo(cfg.k, 12);
        if (method === 'tsae') expect(obj.losses.l_nce).toBeGreaterThan(0);
        const fd = finiteDiff(w, (ww) => methodObjective(ww, batch, cfg, alpha, obj.active).losses.loss);
        for (const k of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const)
          close(`${method} ${k}`, obj.grads[k], fd[k]);
      });

  it('the contrastive term changes the gradient; without it T-SAE is Matryoshka BatchTopK', () => {
    const m = 8;
    const w = randomWeights(5, m, 31);
    const batch = makeBatch(2, 4, 5, 32);
    const t = methodObjective(w, batch, methodCfg('tsae', m), 0.5);
    const plain = methodObjective(w, batch, { ...methodCfg('tsae', m), contrastive_coefficient: 0 }, 0.5);
    expect(t.losses.loss).toBeCloseTo(plain.losses.loss + 0.1 * t.losses.l_nce, 12);
    expect(t.grads.W_enc).not.toEqual(plain.grads.W_enc);
  });
});

describe('methodStep', () => {
  it('updates α from the full L_recon, the threshold after its start step, and trains', () => {
    const m = 8;
    const cfg = { ...methodCfg('tsae', m), threshold_start_step: 1, lr: 1e-2 };
    const w = randomWeights(5, m, 41);
    let state = initRefState({
      d_in: 5,
      d_sae: m,
      W_enc: Float32Array.from(w.W_enc),
      b_enc: Float32Array.from(w.b_enc),
      W_dec: Float32Array.from(w.W_dec),
      b_dec: Float32Array.from(w.b_dec),
    });
    let th = { theta: null as number | null };
    const batch = makeBatch(2, 4, 5, 42);
    const first = methodStep(state, th, batch, cfg);
    // Step index 0 and 1 are not > 1: no threshold yet.
    expect(first.threshold.theta).toBeNull();
    expect(first.alpha).toBe(0.5);
    expect(first.l_max).toBeCloseTo(first.objective.losses.l_recon, 14);
    const losses: number[] = [first.objective.losses.l_recon];
    state = first.state;
    th = first.threshold;
    for (let s = 0; s < 40; s++) {
      const r = methodStep(state, th, batch, cfg);
      state = r.state;
      th = r.threshold;
      losses.push(r.objective.losses.l_recon);
    }
    expect(th.theta).toBeGreaterThan(0);
    expect(losses[losses.length - 1]).toBeLessThan(0.8 * losses[0]);
    // Decoder rows stay unit norm.
    for (let i = 0; i < m; i++) {
      let ss = 0;
      for (let j = 0; j < 5; j++) ss += state.weights.W_dec[i * 5 + j] ** 2;
      expect(ss).toBeCloseTo(1, 12);
    }
  });
});
