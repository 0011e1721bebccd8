// One whole GPU training step vs the float64 reference (src/sae/reference, H1), per architecture and
// option, plus each kernel of the step against its CPU twin fed with the GPU's own inputs.
//
// Tolerances (float32 GPU vs float64 reference, O(1) data, sums over ≤ 40 terms per element):
// - forward values and losses: rtol 1e-4 / atol 1e-5 — a few hundred float32 roundings at 6e-8 each.
// - gradients: atol 1e-5 + rtol 1e-3. Gradients are sums over rows of products with cancellation, so their
//   absolute error scales with the largest term (≈1e-6 here), not with the (sometimes tiny) result.
// - Adam + renorm vs the twin on the GPU's own gradient: atol 2e-6 (lr = 1e-2; the update is lr·m̂/(√v̂+ε)
//   with m̂/√v̂ = ±1 at step 1, so an error in g matters only where |g| ≲ ε·10).
import { describe, expect, it } from 'vitest';
import { initWeights } from '../../src/sae/init';
import { initRefState, referenceStep } from '../../src/sae/reference';
import type { TrainConfig } from '../../src/sae/config';
import { createTrainer, type GpuSaeTrainer } from '../../src/sae/trainer';
import { jumpReluTwin, reluTwin, topkTwin, centerTwin } from '../../src/sae/twins/activation';
import { gemmTwin } from '../../src/sae/twins/gemm';
import { columnTwin, featureGradTwin, reconTwin } from '../../src/sae/twins/losses';
import { adamTwin, bdecGradTwin, decProjectTwin, decRenormTwin } from '../../src/sae/twins/update';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';
import { gpuBatch, gpuCfg } from './fixtures';

const cases: [string, Partial<TrainConfig>][] = [
  ['relu zero squared', { architecture: 'relu' }],
  [
    'relu skip norm relative ema',
    {
      architecture: 'relu',
      seq_start_mode: 'skip',
      recon_loss: 'norm',
      alpha_mode: 'relative',
      lmax_mode: 'ema',
    },
  ],
  ['topk zero', { architecture: 'topk' }],
  ['topk skip', { architecture: 'topk', seq_start_mode: 'skip' }],
  ['jumprelu zero', { architecture: 'jumprelu' }],
  ['jumprelu skip norm', { architecture: 'jumprelu', seq_start_mode: 'skip', recon_loss: 'norm' }],
  ['batchtopk zero', { architecture: 'batchtopk' }],
  ['batchtopk skip', { architecture: 'batchtopk', seq_start_mode: 'skip' }],
  // More cases (prefix settings, similarity, 20 steps): matryoshkaTrainer.test.ts, tsaeTrainer.test.ts.
  ['matryoshka_batchtopk zero', { architecture: 'matryoshka_batchtopk' }],
  ['tsae skip', { architecture: 'tsae', seq_start_mode: 'skip' }],
];

async function stepBoth(cfg: TrainConfig) {
  const gpu = await getTestGpu();
  const batch = gpuBatch(cfg, 5);
  const w0 = initWeights(cfg, batch);
  const trainer: GpuSaeTrainer = await createTrainer(gpu, cfg, w0);
  trainer.trainStep(batch);
  const metrics = await trainer.readMetrics();
  const ref = referenceStep(initRefState(w0), batch, cfg);
  return { trainer, metrics, ref, batch, w0 };
}

describe('one GPU step vs referenceStep', () => {
  for (const [name, o] of cases)
    it(name, async () => {
      const cfg = gpuCfg({ ...o, temporal_coefficient: 0.5, l1_coefficient: 0.1 });
      const { trainer, metrics, ref } = await stepBoth(cfg);
      const rm = ref.metrics;
      for (const key of [
        'l_recon',
        'l_sparse',
        'l_temp',
        'loss',
        'alpha',
        'l_max',
        'l0',
        'grad_norm',
        'lr',
      ] as const)
        expectClose(`metric ${key}`, [metrics[key]], [rm[key]], 1e-5, 1e-4);
      expect(metrics.step).toBe(rm.step);
      expect(metrics.tokens_seen).toBe(rm.tokens_seen);
      expect(metrics.dead_count).toBe(rm.dead_count);
      // The forward pass of the step.
      expectClose(
        'f',
        await trainer.readRaw('f'),
        ref.objective.fwd.f.map((v, i) => (ref.objective.plan.valid[Math.floor(i / cfg.d_sae)] ? v : 0)),
        1e-5,
        1e-4,
      );
      // Gradients Adam consumed (after the decoder projection).
      for (const p of ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'log_threshold'] as const) {
        const g = ref.grads[p];
        if (!g) continue;
        expectClose(`grad ${p}`, await trainer.readRaw(`grad_${p}`), g, 1e-5, 1e-3);
      }
      // State after the step.
      const s = await trainer.getState();
      expect(s.alpha.l_max).toBeCloseTo(ref.state.alpha.l_max!, 5);
      expectClose('tokens_since_fired', s.tokens_since_fired, ref.state.tokens_since_fired, 0, 0);
      expectClose('adam m W_enc', s.adam.m.W_enc, ref.state.adam.m.W_enc, 1e-6, 1e-3);
      trainer.destroy();
    });
});

describe('each kernel of the step vs its twin on the GPU inputs', () => {
  for (const arch of ['relu', 'topk', 'jumprelu'] as const)
    it(`${arch}: center, encoder GEMM, activation, decoder GEMM`, async () => {
      const cfg = gpuCfg({ architecture: arch });
      const { trainer, batch, w0 } = await stepBoth(cfg);
      const N = batch.S * batch.T;
      const { d_in: d, d_sae: m } = cfg;
      const xc = await trainer.readRaw('xc');
      expectClose('center', xc, centerTwin(batch.x, w0.b_dec, N, d), 1e-6, 1e-6);
      // pre was overwritten by the JumpReLU θ terms in the backward pass; recompute it with forward().
      await trainer.forward(batch);
      const wNow = await trainer.getWeights();
      const xcNow = await trainer.readRaw('xc');
      const pre = await trainer.readRaw('pre');
      expectClose(
        'encoder',
        pre,
        gemmTwin({ layout: 'NN', M: N, N: m, K: d }, xcNow, wNow.W_enc, null, wNow.b_enc),
        1e-5,
        1e-5,
      );
      const f = await trainer.readRaw('f');
      const fTwin =
        arch === 'relu'
          ? reluTwin(pre, batch.valid, N, m)
          : arch === 'topk'
            ? topkTwin(pre, batch.valid, N, m, cfg.k)
            : jumpReluTwin(pre, wNow.log_threshold!, batch.valid, N, m);
      expectClose('activation', f, fTwin, 0, 0);
      const xhat = await trainer.readRaw('xhat');
      expectClose(
        'decoder',
        xhat,
        gemmTwin({ layout: 'NN', M: N, N: d, K: m }, f, wNow.W_dec, null, wNow.b_dec),
        1e-5,
        1e-5,
      );
      trainer.destroy();
    });
});

describe('Adam and decoder renorm vs twins on the GPU gradient', () => {
  it('relu', async () => {
    const cfg = gpuCfg();
    const { trainer, w0 } = await stepBoth(cfg);
    const s = await trainer.getState();
    const h = { lr: cfg.lr, beta1: cfg.adam_beta1, beta2: cfg.adam_beta2, eps: cfg.adam_eps, t: 1 };
    const zeros = (n: number) => new Float64Array(n);
    for (const p of ['W_enc', 'b_enc', 'b_dec'] as const) {
      const g = await trainer.readRaw(`grad_${p}`);
      const tw = adamTwin(w0[p], g, zeros(g.length), zeros(g.length), h);
      expectClose(`adam ${p}`, s.weights[p], tw.p, 2e-6, 1e-5);
      expectClose(`adam m ${p}`, s.adam.m[p], tw.m, 1e-9, 1e-5);
      expectClose(`adam v ${p}`, s.adam.v[p], tw.v, 1e-12, 1e-5);
    }
    const g = await trainer.readRaw('grad_W_dec');
    const tw = adamTwin(w0.W_dec, g, zeros(g.length), zeros(g.length), h);
    expectClose('adam + renorm W_dec', s.weights.W_dec, decRenormTwin(tw.p, cfg.d_sae, cfg.d_in), 2e-6, 1e-5);
    trainer.destroy();
  });
});

describe('backward kernels vs their twins on the GPU inputs of the same step', () => {
  // Each twin gets the GPU's own inputs for its kernel (read back after the step), so a mismatch points
  // at that kernel, not at error carried in from earlier passes. Weights before the update are w0.
  // Tolerances: atol 1e-6 + rtol 1e-4 (sums of ≤ 40 float32 terms of the sizes in gpuCfg).
  for (const architecture of ['relu', 'topk'] as const)
    it(`${architecture}: recon, feature_grad, ∂W GEMMs, column, ∂b_dec, decoder projection`, async () => {
      const cfg = gpuCfg({
        architecture,
        temporal_coefficient: 0.5,
        l1_coefficient: 0.1,
        aux_k_coefficient: 0,
      });
      const { trainer, batch, w0, metrics } = await stepBoth(cfg);
      const N = batch.S * batch.T;
      const { d_in: d, d_sae: m } = cfg;
      const rows = { N, T: batch.T, start: batch.start, valid: batch.valid };
      const [xc, pre, f, xhat, gx, g, rowStats] = await Promise.all(
        ['xc', 'pre', 'f', 'xhat', 'g_xhat', 'g', 'row_stats'].map((n) => trainer.readRaw(n)),
      );
      const rec = reconTwin(cfg, rows, batch.x, xhat, d);
      expectClose('recon g_xhat', gx, rec.g_xhat, 1e-7, 1e-4);
      expectClose(
        'recon row loss',
        rowStats.filter((_, i) => i % 4 === 0),
        rec.rowLoss,
        1e-6,
        1e-4,
      );
      const gf = gemmTwin({ layout: 'NT', M: N, N: m, K: d }, gx, w0.W_dec, null);
      const fg = featureGradTwin(cfg, rows, metrics.alpha, gf, f, pre, new Float32Array(m), m);
      expectClose('feature_grad g_pre', g, fg.g_pre, 1e-6, 1e-4);
      expect(metrics.l_temp).toBeCloseTo(fg.temp, 5);
      expect(metrics.l0).toBeCloseTo(fg.l0, 5);
      expectClose(
        'grad W_enc (TN)',
        await trainer.readRaw('grad_W_enc'),
        gemmTwin({ layout: 'TN', M: d, N: m, K: N }, xc, g, null),
        1e-6,
        1e-4,
      );
      const col = columnTwin(
        rows,
        g,
        new Float64Array(N * m),
        f,
        new Float32Array(m),
        cfg.dead_feature_window,
        m,
      );
      const gbEnc = await trainer.readRaw('grad_b_enc');
      expectClose('column grad_b_enc', gbEnc, col.grad_b_enc, 1e-6, 1e-4);
      expectClose(
        'column tokens_since_fired',
        await trainer.readRaw('tokens_since_fired'),
        col.tokens_since_fired,
        0,
        0,
      );
      expectClose(
        'grad b_dec',
        await trainer.readRaw('grad_b_dec'),
        bdecGradTwin(gx, w0.W_enc, gbEnc, N, d, m),
        1e-6,
        1e-4,
      );
      const rawWdec = gemmTwin({ layout: 'TN', M: m, N: d, K: N }, f, gx, null);
      expectClose(
        'grad W_dec (TN + projection)',
        await trainer.readRaw('grad_W_dec'),
        decProjectTwin(w0.W_dec, rawWdec, m, d),
        1e-6,
        1e-4,
      );
      trainer.destroy();
    });
});
