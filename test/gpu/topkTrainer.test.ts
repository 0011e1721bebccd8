// The TopK trainer on its sparse path (k small enough for topkSparse: decoder, ∂W_dec, ∂W_enc and ∂L/∂f
// through topk_spmm / topk_masked_nt, AuxK's products too, features dying so AuxK has work) against the
// float64 reference over 20 steps, with both GEMM designs (their selection and sparse kernels run at
// SwiftShader's and real GPUs' workgroup sizes). The trainer tests with gpuCfg's k 6 of 40 features run
// the dense products for f, so this is where the sparse f products meet the reference step by step.
// Tolerances as trainerRun.test.ts (same argument, fewer steps): metrics rtol 1e-3, weights atol 2e-3
// with a median |diff| below 1e-5.
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../src/sae/config';
import { topkSparse } from '../../src/sae/gpu/layout';
import { initWeights } from '../../src/sae/init';
import { initRefState, referenceStep, type RefState } from '../../src/sae/reference';
import { createTrainer } from '../../src/sae/trainer';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';
import { gpuBatch, gpuCfg } from './fixtures';

const STEPS = 20;

describe('TopK on the sparse path vs the reference', () => {
  for (const gemmDesign of ['blocked', 'tiled'] as const)
    it(`${STEPS} steps, k 4 of 40 features, AuxK on (${gemmDesign})`, async () => {
      const cfg: TrainConfig = gpuCfg({
        architecture: 'topk',
        k: 4,
        lr: 1e-3,
        training_tokens: 24 * STEPS,
        temporal_coefficient: 0.3,
        dead_feature_window: 48,
        aux_k: 8,
      });
      expect(topkSparse(cfg)).toBe(true);
      const gpu = await getTestGpu();
      const first = gpuBatch(cfg, 300);
      const w0 = initWeights(cfg, first);
      const trainer = await createTrainer(gpu, cfg, w0, { gemmDesign });
      let ref: RefState = initRefState(w0);
      let auxSeen = false;
      for (let s = 0; s < STEPS; s++) {
        const batch = s === 0 ? first : gpuBatch(cfg, 300 + s);
        trainer.trainStep(batch);
        const r = referenceStep(ref, batch, cfg);
        ref = r.state;
        auxSeen ||= r.metrics.l_aux > 0;
        if (s % 5 !== 4 && s > 1) continue;
        const g = await trainer.readMetrics();
        for (const key of ['l_recon', 'l_temp', 'l_aux', 'loss', 'alpha', 'l_max', 'l0'] as const)
          expectClose(`step ${s + 1} ${key}`, [g[key]], [r.metrics[key]], 1e-5, 1e-3);
        expect(g.dead_count).toBe(r.metrics.dead_count);
      }
      expect(auxSeen, 'features died and AuxK contributed').toBe(true);
      const st = await trainer.getState();
      for (const p of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
        const [got, want] = [st.weights[p], ref.weights[p]];
        expectClose(`weights ${p}`, got, want, 2e-3, 0);
        const diffs = Array.from(got, (v, j) => Math.abs(v - want[j])).sort((a, b) => a - b);
        expect(diffs[Math.floor(diffs.length / 2)], `median |diff| of ${p}`).toBeLessThan(1e-5);
      }
      trainer.destroy();
    });
});
