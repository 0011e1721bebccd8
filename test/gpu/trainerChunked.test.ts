// The split path (src/sae/gpu/chunks.ts): an artificially small binding limit forces the [N, m]
// activations into row blocks and W_enc/W_dec into feature blocks, at a tiny size. The split trainer
// must match the reference over several steps (same tolerances as trainerRun.test.ts) and the unsplit
// GPU trainer closely (same arithmetic, except that sums over blocks are added in a different order).
import { describe, expect, it } from 'vitest';
import type { TrainConfig } from '../../src/sae/config';
import { initWeights } from '../../src/sae/init';
import { planMemory } from '../../src/sae/memoryPlan';
import { initRefState, referenceStep, type RefState } from '../../src/sae/reference';
import { createTrainer } from '../../src/sae/trainer';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';
import { gpuBatch, gpuCfg } from './fixtures';

const STEPS = 8;

describe('matrices split across bindings', () => {
  for (const architecture of ['relu', 'topk', 'jumprelu'] as const)
    it(`${architecture}: 3 row blocks × 2 feature blocks match the reference and the unsplit trainer`, async () => {
      const cfg: TrainConfig = gpuCfg({
        architecture,
        lr: 1e-3,
        temporal_coefficient: 0.3,
        l1_coefficient: 0.05,
        dead_feature_window: 30, // AuxK (TopK) and dead counts engage within the run
        d_sae: 400,
      });
      // One sequence of activations is 8×400 floats = 12.8 kB, so a 16 000-byte limit gives 3 row blocks of
      // one sequence; a feature block of W_enc/W_dec may hold floor(4000/12) = 333 features, rounded down
      // to whole 64-wide tiles: 320 + 80. (Every unsplit buffer is smaller than the limit.)
      const limit = 16000;
      const plan = planMemory(cfg, { maxStorageBufferBindingSize: limit, maxBufferSize: 1 << 30 });
      expect(plan.fits).toBe(true);
      expect(plan.chunks!.rowBlocks.length).toBe(3);
      expect(plan.chunks!.featBlocks.map((b) => b.feats)).toEqual([320, 80]);
      const gpu = await getTestGpu();
      const first = gpuBatch(cfg, 500);
      const w0 = initWeights(cfg, first);
      const split = await createTrainer(gpu, cfg, w0, { limits: { maxStorageBufferBindingSize: limit } });
      const whole = await createTrainer(gpu, cfg, w0);
      let ref: RefState = initRefState(w0);
      for (let s = 0; s < STEPS; s++) {
        const batch = s === 0 ? first : gpuBatch(cfg, 500 + s);
        split.trainStep(batch);
        whole.trainStep(batch);
        const r = referenceStep(ref, batch, cfg);
        ref = r.state;
        const [ms, mw] = [await split.readMetrics(), await whole.readMetrics()];
        for (const key of [
          'l_recon',
          'l_sparse',
          'l_temp',
          'l_aux',
          'loss',
          'alpha',
          'l_max',
          'l0',
        ] as const) {
          expectClose(`step ${s + 1} ${key} vs reference`, [ms[key]], [r.metrics[key]], 1e-5, 1e-3);
          expectClose(`step ${s + 1} ${key} vs unsplit`, [ms[key]], [mw[key]], 1e-6, 1e-5);
        }
        expect(ms.dead_count).toBe(r.metrics.dead_count);
      }
      const [ss, sw] = [await split.getState(), await whole.getState()];
      for (const p of ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'log_threshold'] as const) {
        const want = ref.weights[p];
        if (!want) continue;
        expectClose(`${p} vs reference`, ss.weights[p]!, want, 2e-3, 0);
        expectClose(`${p} vs unsplit`, ss.weights[p]!, sw.weights[p]!, 1e-4, 0);
        expectClose(`adam v ${p} vs unsplit`, ss.adam.v[p]!, sw.adam.v[p]!, 1e-9, 1e-3);
      }
      expectClose('tokens_since_fired', ss.tokens_since_fired, ref.tokens_since_fired, 0, 0);
      // forward() reassembles f from the row blocks.
      const fwdS = await split.forward(first);
      const fwdW = await whole.forward(first);
      expectClose('forward f', fwdS.f, fwdW.f, 1e-5, 1e-4);
      split.destroy();
      whole.destroy();
    });
});
