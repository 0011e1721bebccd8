// Gradients of the float64 reference against central finite differences of its own loss (α frozen),
// for every architecture, both temporal start rules, doc starts mid-sequence and padding; the JumpReLU
// threshold pseudo-gradient against a hand-worked case; α moving breaks the match (it must not be a
// gradient path).
import { describe, expect, it } from 'vitest';
import { compareClose } from '../helpers/parity';
import type { TrainConfig } from '../../src/sae/config';
import { updateAlpha } from '../../src/sae/alpha';
import {
  PARAM_NAMES,
  type ParamName,
  referenceBackward,
  referenceObjective,
  type RefParams,
  type RefWeights,
} from '../../src/sae/reference';
import type { ActivationBatch } from '../../src/data/types';
import { cfgFor, finiteDiff, kinkDistance, makeBatch, randomWeights } from './referenceFixtures';

// Central differences with h = 1e-6 in float64: truncation O(h²·L''') ≈ 1e-12, rounding ≈ 1e-16/h ≈
// 1e-10. So 1e-7 absolute + 1e-6 relative is loose for a right gradient and far below any real error
// (a missing term here is ≥ 1e-3).
const ATOL = 1e-7;
const RTOL = 1e-6;

function expectGradsMatch(analytic: RefParams, fd: RefParams, names: readonly ParamName[] = PARAM_NAMES) {
  for (const k of names) {
    if (!fd[k]) continue;
    const r = compareClose(k, analytic[k]!, fd[k]!, ATOL, RTOL);
    expect(r.ok, r.message).toBe(true);
  }
}

function checkCase(
  cfg: TrainConfig,
  batch: ActivationBatch,
  w: RefWeights,
  tsf: ArrayLike<number> = new Float64Array(w.d_sae),
  names: readonly ParamName[] = PARAM_NAMES,
) {
  const alpha = 0.73;
  expect(kinkDistance(w, batch, cfg, tsf)).toBeGreaterThan(1e-4);
  const obj = referenceObjective(w, batch, cfg, alpha, tsf);
  const analytic = referenceBackward(w, batch, cfg, alpha, obj);
  // AuxK's residual e = x − x̂ is a constant in the backward pass: freeze it for the differences too.
  const e = Float64Array.from(batch.x, (x, i) => x - obj.fwd.xhat[i]);
  const fd = finiteDiff(w, (ww) => referenceObjective(ww, batch, cfg, alpha, tsf, e).losses.loss);
  expectGradsMatch(analytic, fd, names);
  return obj;
}

const seqCases: { name: string; opts: Parameters<typeof makeBatch>[4] }[] = [
  { name: 'plain', opts: {} },
  { name: 'doc start mid-sequence + trailing padding', opts: { starts: [[0, 2]], pads: [[1, 3]] } },
  { name: 'padding mid-sequence', opts: { pads: [[1, 1]] } },
];

describe('reference gradients = finite differences (α frozen)', () => {
  for (const mode of ['zero', 'skip'] as const)
    for (const recon of ['squared', 'norm'] as const)
      for (const sc of seqCases)
        it(`ReLU, ${mode}, ${recon}, ${sc.name}`, () => {
          const cfg = cfgFor({
            architecture: 'relu',
            seq_start_mode: mode,
            recon_loss: recon,
            l1_coefficient: 0.3,
            temporal_coefficient: 0.5,
          });
          const obj = checkCase(cfg, makeBatch(2, 4, 5, 1, sc.opts), randomWeights(5, 7, 2));
          // The case really exercises every term.
          expect(obj.losses.l_sparse).toBeGreaterThan(0);
          expect(obj.losses.l_temp).toBeGreaterThan(0);
        });

  for (const mode of ['zero', 'skip'] as const)
    it(`TopK k=3, ${mode}, doc start + padding`, () => {
      const cfg = cfgFor({
        architecture: 'topk',
        k: 3,
        seq_start_mode: mode,
        temporal_coefficient: 0.5,
        aux_k_coefficient: 0,
      });
      const batch = makeBatch(2, 4, 5, 3, { starts: [[0, 2]], pads: [[1, 3]] });
      const obj = checkCase(cfg, batch, randomWeights(5, 7, 4));
      expect(obj.losses.l_sparse).toBe(0);
      expect(obj.losses.l0).toBeGreaterThan(2);
    });

  it('TopK with AuxK (3 dead features, aux_k = 2, residual stop-gradient)', () => {
    const cfg = cfgFor({
      architecture: 'topk',
      k: 2,
      temporal_coefficient: 0.5,
      aux_k_coefficient: 0.7,
      aux_k: 2,
      dead_feature_window: 100,
    });
    const tsf = Float64Array.from([0, 100, 5, 250, 0, 99, 1000]); // dead: 1, 3, 6
    const batch = makeBatch(2, 4, 5, 5, { starts: [[1, 2]], pads: [[0, 3]] });
    const obj = checkCase(cfg, batch, randomWeights(5, 7, 6), tsf);
    expect(obj.auxk.num_dead).toBe(3);
    expect(obj.auxk.scale).toBe(1);
    expect(obj.auxk.l_aux).toBeGreaterThan(0);
    for (let n = 0; n < 8; n++) {
      if (!batch.valid[n]) expect(obj.auxk.chosen[n]).toEqual([]);
      else {
        expect(obj.auxk.chosen[n]).toHaveLength(2);
        for (const i of obj.auxk.chosen[n]) expect([1, 3, 6]).toContain(i);
      }
    }
  });

  it('AuxK value by hand: one dead feature, scale = 1/aux_k', () => {
    const cfg = cfgFor({
      architecture: 'topk',
      k: 2,
      temporal_coefficient: 0,
      aux_k_coefficient: 1,
      aux_k: 4,
      dead_feature_window: 10,
    });
    const tsf = Float64Array.from([0, 0, 0, 0, 10, 0, 0]); // only feature 4 dead
    const batch = makeBatch(2, 4, 5, 9, { pads: [[1, 0]] });
    const w = randomWeights(5, 7, 10);
    const obj = referenceObjective(w, batch, cfg, 0.5, tsf);
    // L_aux = (1/4)·(1/N)·Σ_n ‖pre_n4·W_dec_4 − (x_n − x̂_n)‖², N = 7 valid tokens.
    let sum = 0;
    for (let n = 0; n < 8; n++) {
      if (!batch.valid[n]) continue;
      for (let j = 0; j < 5; j++) {
        const r =
          obj.fwd.pre[n * 7 + 4] * w.W_dec[4 * 5 + j] - (batch.x[n * 5 + j] - obj.fwd.xhat[n * 5 + j]);
        sum += r * r;
      }
    }
    expect(obj.auxk.scale).toBe(0.25);
    expect(obj.auxk.l_aux).toBeCloseTo((0.25 * sum) / 7, 12);
    expect(obj.losses.loss).toBeCloseTo(obj.losses.l_recon + obj.auxk.l_aux, 12);
  });

  for (const mode of ['zero', 'skip'] as const)
    it(`JumpReLU: W_enc, b_enc, W_dec, b_dec by finite differences, ${mode}`, () => {
      const cfg = cfgFor({
        architecture: 'jumprelu',
        seq_start_mode: mode,
        l1_coefficient: 0.3,
        temporal_coefficient: 0.5,
        jumprelu_bandwidth: 0.2,
      });
      const batch = makeBatch(2, 4, 5, 7, { starts: [[0, 2]], pads: [[1, 3]] });
      const obj = checkCase(cfg, batch, randomWeights(5, 7, 8, Math.log(0.3)), undefined, [
        'W_enc',
        'b_enc',
        'W_dec',
        'b_dec',
      ]);
      expect(obj.losses.l_sparse).toBe(obj.losses.l0);
      expect(obj.losses.l0).toBeGreaterThan(0);
    });
});

describe('JumpReLU threshold pseudo-gradient (hand-worked)', () => {
  // d = m = 2, W_enc = W_dec = I, biases 0, θ = 2 (log θ = log 2), ε = 1, one sequence of 2 tokens,
  // x_0 = (2.2, 1.8), x_1 = (2.4, 4.0), λ1 = 0.1, λ2 = 0.4, α = 0.5 ('zero'), N = 2.
  //   pre = x; active: (1, 0), (1, 1); f_0 = (2.2, 0), f_1 = (2.4, 4.0); x̂ = f
  //   g_x̂ = (2/N)(x̂ − x): (0, −1.8), (0, 0)
  //   D_0 = f_0 = (2.2, 0), D_1 = (0.2, 4.0); λ2α/N = 0.1
  //   ∂L/∂f_0 = (0, −1.8) + 0.1·(sign D_0 − sign D_1) = (0, −1.8) + 0.1·((1, 0) − (1, 1)) = (0, −1.9)
  //   ∂L/∂f_1 = 0.1·sign D_1 = (0.1, 0.1)
  //   u = (pre − θ)/ε: (0.2, −0.2), (0.4, 2.0) → K = (1, 1), (1, 0);  −θ/ε = −2;  −(λ1/N)/ε = −0.05
  //   ∂L/∂θ_0 = 0·(−2) + 0.1·(−2) + 2·(−0.05) = −0.3   → ∂L/∂log θ_0 = θ·(−0.3) = −0.6
  //   ∂L/∂θ_1 = −1.9·(−2) + 1·(−0.05)        = 3.75   → ∂L/∂log θ_1 = 7.5
  //   L_recon = 1.8²/2 = 1.62, L_sparse (L0) = 3/2, L_temp = (2.2 + 4.2)/2 = 3.2
  const cfg = cfgFor({
    architecture: 'jumprelu',
    d_in: 2,
    d_sae: 2,
    l1_coefficient: 0.1,
    temporal_coefficient: 0.4,
    jumprelu_bandwidth: 1,
    seq_start_mode: 'zero',
  });
  const w: RefWeights = {
    d_in: 2,
    d_sae: 2,
    W_enc: Float64Array.from([1, 0, 0, 1]),
    b_enc: new Float64Array(2),
    W_dec: Float64Array.from([1, 0, 0, 1]),
    b_dec: new Float64Array(2),
    log_threshold: Float64Array.from([Math.log(2), Math.log(2)]),
  };
  const batch: ActivationBatch = {
    S: 1,
    T: 2,
    d: 2,
    x: Float32Array.from([2.2, 1.8, 2.4, 4.0]),
    start: Uint8Array.from([1, 0]),
    valid: Uint8Array.from([1, 1]),
    seqIndex: Int32Array.from([0]),
  };
  it('matches the hand-worked values', () => {
    const obj = referenceObjective(w, batch, cfg, 0.5, [0, 0]);
    // x is float32: 2.2f, 1.8f… differ from the decimals by ≤ 1e-7, hence 6 digits.
    expect(obj.losses.l_recon).toBeCloseTo(1.62, 6);
    expect(obj.losses.l_sparse).toBe(1.5);
    expect(obj.losses.l_temp).toBeCloseTo(3.2, 6);
    const g = referenceBackward(w, batch, cfg, 0.5, obj);
    expect(g.log_threshold![0]).toBeCloseTo(-0.6, 6);
    expect(g.log_threshold![1]).toBeCloseTo(7.5, 6);
  });
});

describe('α is a coefficient, not a gradient path', () => {
  it('finite differences that let α follow L_recon do NOT match the analytic gradient', () => {
    const cfg = cfgFor({
      architecture: 'relu',
      temporal_coefficient: 1,
      l1_coefficient: 0.1,
      alpha_beta: 5,
      lmax_momentum: 0.9,
    });
    const batch = makeBatch(2, 4, 5, 1, { starts: [[0, 2]] });
    const w = randomWeights(5, 7, 2);
    const tsf = new Float64Array(7);
    const base = referenceObjective(w, batch, cfg, 0, tsf).losses.l_recon;
    const prev = { l_max: base + 0.2 }; // L_max above L_recon: α = σ(β·μ·0.2) is not saturated
    const alpha = updateAlpha(prev, base, cfg).alpha;
    expect(alpha).toBeGreaterThan(0.6);
    expect(alpha).toBeLessThan(0.8);
    const analytic = referenceBackward(w, batch, cfg, alpha, referenceObjective(w, batch, cfg, alpha, tsf));
    const frozen = finiteDiff(w, (ww) => referenceObjective(ww, batch, cfg, alpha, tsf).losses.loss);
    const moving = finiteDiff(w, (ww) => {
      const lr = referenceObjective(ww, batch, cfg, 0, tsf).losses.l_recon;
      return referenceObjective(ww, batch, cfg, updateAlpha(prev, lr, cfg).alpha, tsf).losses.loss;
    });
    expectGradsMatch(analytic, frozen);
    // With α moving, ∂L/∂W gains λ2·L_temp·∂α/∂L_recon·∂L_recon/∂W — far outside the tolerance.
    const r = compareClose('W_enc (α moving)', analytic.W_enc, moving.W_enc, 1e-4, 1e-3);
    expect(r.ok).toBe(false);
    expect(r.maxAbs).toBeGreaterThan(1e-2);
  });
});
