// The float64 reference of the 'batchtopk' architecture as the GPU trainer is checked against it
// (referenceStep → methods.ts methodReferenceStep): SAELens BatchTopKTrainingSAE's threshold rule by hand
// (θ₀ = 0; θ ← (1 − lr)·θ + lr·min of the step's positive f; no update when nothing is active), k·N
// entries per step, the TrainConfig → method mapping, and the metrics in StepMetrics form.
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/sae/config';
import { initRefState, referenceStep, type RefState } from '../../src/sae/reference';
import { methodConfigFromTrain } from '../../src/sae/reference/methods';
import { makeBatch, randomWeights } from './referenceFixtures';

const m = 8,
  d = 5;
const cfg: TrainConfig = {
  ...DEFAULT_CONFIG,
  architecture: 'batchtopk',
  d_in: d,
  d_sae: m,
  k: 3,
  seqs_per_batch: 2,
  context_size: 4,
  topk_threshold_lr: 0.25,
  temporal_coefficient: 0.3,
  lr: 1e-2,
};

function state(bEnc = 0): RefState {
  const w = randomWeights(d, m, 41);
  w.b_enc.fill(bEnc);
  const s = initRefState({
    d_in: d,
    d_sae: m,
    W_enc: Float32Array.from(w.W_enc),
    b_enc: Float32Array.from(w.b_enc),
    W_dec: Float32Array.from(w.W_dec),
    b_dec: Float32Array.from(w.b_dec),
  });
  return s;
}

describe('BatchTopK reference step (SAELens semantics)', () => {
  it('maps the TrainConfig: one prefix, no contrastive term, β = 1 − topk_threshold_lr from step 0', () => {
    const mc = methodConfigFromTrain(cfg)!;
    expect(mc.method).toBe('batchtopk');
    expect(mc.prefix_ends).toEqual([m]);
    expect(mc.threshold_beta).toBe(0.75);
    expect(mc.threshold_start_step).toBe(-1);
    expect(mc.contrastive_coefficient).toBe(0);
    expect(methodConfigFromTrain({ ...cfg, architecture: 'topk' })).toBeNull();
    expect(() => methodConfigFromTrain({ ...cfg, recon_loss: 'norm' })).toThrow(/recon_loss 'squared'/);
  });

  it('θ by hand over two steps; exactly k·N entries active; no sparsity or AuxK term', () => {
    const batch = makeBatch(2, 4, d, 42, { pads: [[1, 3]] }); // 7 valid tokens → 21 active entries
    let s = state();
    expect(s.weights.topk_threshold).toBeUndefined(); // a fresh run: θ = 0
    let theta = 0;
    for (let step = 0; step < 2; step++) {
      const r = referenceStep(s, batch, cfg);
      const f = r.objective.fwd.f;
      const active = Array.from(f).filter((v, q) => v > 0 && batch.valid[Math.floor(q / m)]);
      expect(active.length).toBe(3 * 7);
      theta = 0.75 * theta + 0.25 * Math.min(...active);
      expect(r.state.weights.topk_threshold).toBeCloseTo(theta, 14);
      expect(r.metrics.l0).toBe(3);
      expect(r.metrics.l_sparse).toBe(0);
      expect(r.metrics.l_aux).toBe(0);
      expect(r.metrics.loss).toBeCloseTo(r.metrics.l_recon + 0.3 * r.metrics.alpha * r.metrics.l_temp, 12);
      s = r.state;
    }
  });

  it('no update when nothing is active (every pre-activation ≤ 0)', () => {
    const batch = makeBatch(2, 4, d, 43);
    const s = state(-1e3);
    s.weights.topk_threshold = 0.5;
    const r = referenceStep(s, batch, cfg);
    expect(r.metrics.l0).toBe(0);
    expect(r.state.weights.topk_threshold).toBe(0.5);
  });
});
