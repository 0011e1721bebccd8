// 50 GPU steps vs 50 reference steps, per architecture × temporal mode, on fresh seeded batches each
// step, with a short dead-feature window so the counters and dead_count move. The gemm design alternates
// so both GEMM kernels are covered over a whole run.
//
// Tolerances. The reference is float64 and the GPU float32; after one step the two agree to ~1e-6
// (trainerStep.test.ts). Over 50 Adam steps the difference grows: Adam normalises each update to ≈ lr
// whatever the gradient's size, so a gradient element that is ≈ 0 (its sign decided by rounding) can
// move its weight by up to lr in either direction. With lr = 1e-3 that bounds a weight's drift by
// 50·1e-3 in theory; in practice such elements are rare and their m̂/√v̂ is small. We allow atol 2e-3 on
// weights (2 of the 50 possible lr-sized steps) and check the bulk is much tighter: the median |diff|
// must be < 1e-5. Losses, α and L_max: rtol 1e-3. L_max/α are computed on the GPU every step; a wrong
// update rule (ema vs max, missing first-step rule) gives errors of order 1e-1.
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../src/sae/config';
import { initWeights } from '../../src/sae/init';
import { initRefState, referenceStep, type RefState } from '../../src/sae/reference';
import { createTrainer } from '../../src/sae/trainer';
import type { StepMetrics } from '../../src/sae/types';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';
import { gpuBatch, gpuCfg } from './fixtures';

function median(a: number[]): number {
  const s = a.slice().sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

const STEPS = 50;

describe('50 GPU steps vs 50 reference steps', () => {
  let i = 0;
  for (const architecture of ['relu', 'topk', 'jumprelu'] as const)
    for (const seq_start_mode of ['zero', 'skip'] as const) {
      const design = i++ % 2 === 0 ? 'blocked' : 'tiled';
      it(`${architecture} ${seq_start_mode} (${design} GEMMs)`, async () => {
        const cfg: TrainConfig = gpuCfg({
          architecture,
          seq_start_mode,
          lr: 1e-3,
          lr_warm_up_steps: 5,
          lr_schedule: 'cosine',
          training_tokens: 24 * STEPS,
          temporal_coefficient: 0.3,
          l1_coefficient: 0.05,
          dead_feature_window: 60,
        });
        const gpu = await getTestGpu();
        const first = gpuBatch(cfg, 100);
        const w0 = initWeights(cfg, first);
        const trainer = await createTrainer(gpu, cfg, w0, { gemmDesign: design });
        let ref: RefState = initRefState(w0);
        const gpuM: StepMetrics[] = [];
        const refM: StepMetrics[] = [];
        for (let s = 0; s < STEPS; s++) {
          const batch = s === 0 ? first : gpuBatch(cfg, 100 + s);
          trainer.trainStep(batch);
          const r = referenceStep(ref, batch, cfg);
          ref = r.state;
          refM.push(r.metrics);
          if (s % 10 === 9 || s < 3) gpuM.push(await trainer.readMetrics());
          else gpuM.push(r.metrics); // not read back: keeps indices aligned
        }
        for (let s = 0; s < STEPS; s++) {
          if (!(s % 10 === 9 || s < 3)) continue;
          const [g, r] = [gpuM[s], refM[s]];
          expect(g.step).toBe(r.step);
          for (const key of [
            'l_recon',
            'l_sparse',
            'l_temp',
            'l_aux',
            'loss',
            'alpha',
            'l_max',
            'l0',
            'lr',
          ] as const)
            expectClose(`step ${s + 1} ${key}`, [g[key]], [r[key]], 1e-5, 1e-3);
          expect(Math.abs(g.dead_count - r.dead_count)).toBeLessThanOrEqual(0);
        }
        // With a 60-token dead window features die during the run, so TopK's AuxK term is exercised.
        if (architecture === 'topk') expect(refM.some((r) => r.l_aux > 0)).toBe(true);
        const st = await trainer.getState();
        expect(st.step).toBe(STEPS);
        expect(st.alpha.l_max).toBeCloseTo(ref.alpha.l_max!, 4);
        expectClose('tokens_since_fired', st.tokens_since_fired, ref.tokens_since_fired, 0, 0);
        for (const p of ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'log_threshold'] as const) {
          const want = ref.weights[p];
          if (!want) continue;
          const got = st.weights[p]!;
          expectClose(`weights ${p}`, got, want, 2e-3, 0);
          const diffs = Array.from(got, (v, j) => Math.abs(v - want[j]));
          expect(median(diffs), `median |diff| of ${p}`).toBeLessThan(1e-5);
        }
        trainer.destroy();
      });
    }
});
