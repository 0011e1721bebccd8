// End to end on the GPU: evaluateHeldOut with the GPU reductions (trainer.evalForward) equals the CPU
// path (trainer.forward: f and x̂ read back, reduced by the accumulators) on the same trained weights,
// every metric, by position, per feature and the clustering, for ReLU, TopK and JumpReLU, unsplit and
// with row blocks. Tolerances: the two paths differ only in f32 sums over one batch (≤ 70 terms per
// token, ≤ 24 tokens per feature: ~2e-6 relative at worst) against float64 sums; metrics that subtract
// (explained variance, autocorrelation's E[ab] − E[a]E[b]) may lose a few digits more: rtol 1e-4.
// Counts (dead, dense, density, tokens, pairs) are exact, and the clustered features and leaf order equal.
import { describe, expect, it } from 'vitest';
import { evaluateHeldOut, type EvalResult } from '../../src/analysis/evaluate';
import type { ActivationBatch } from '../../src/data/types';
import type { TrainConfig } from '../../src/sae/config';
import { initWeights } from '../../src/sae/init';
import { createTrainer } from '../../src/sae/trainer';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';
import { gpuBatch, gpuCfg } from './fixtures';

const RTOL = 1e-4,
  ATOL = 1e-6;

/** Five held-out batches, the last with 2 of the 3 sequences. */
function heldOut(cfg: TrainConfig): ActivationBatch[] {
  const out = Array.from({ length: 5 }, (_, k) => gpuBatch(cfg, 700 + k));
  const b = out[4];
  const rows = 2 * b.T;
  out[4] = {
    ...b,
    S: 2,
    x: b.x.slice(0, rows * b.d),
    start: b.start.slice(0, rows),
    valid: b.valid.slice(0, rows),
    seqIndex: b.seqIndex.slice(0, 2),
  };
  return out;
}

function compare(gpu: EvalResult, cpu: EvalResult, label: string) {
  const exact = ['dead_count', 'dense_count', 'tokens', 'pairs'] as const;
  for (const k of exact) expect(gpu.metrics[k], `${label} ${k}`).toBe(cpu.metrics[k]);
  for (const [k, v] of Object.entries(cpu.metrics))
    expectClose(`${label} ${k}`, [gpu.metrics[k as keyof typeof gpu.metrics] as number], [v], ATOL, RTOL);
  for (const key of Object.keys(cpu.byPosition)) {
    const k = key as keyof EvalResult['byPosition'];
    const [g, v] = [gpu.byPosition[k], cpu.byPosition[k]];
    // NaN where a position has no token/pair: the same positions on both paths.
    expect(g.map(Number.isNaN), `${label} byPosition.${k} NaNs`).toEqual(v.map(Number.isNaN));
    const zero = (a: number[]) => a.map((x) => x || 0);
    expectClose(`${label} byPosition.${k}`, zero(g), zero(v), ATOL, RTOL);
  }
  expect(gpu.features.density, `${label} density`).toEqual(cpu.features.density);
  expect(gpu.densityHist).toEqual(cpu.densityHist);
  const [gc, cc] = [gpu.clustering!, cpu.clustering!];
  expect(gc.features, `${label} clustered features`).toEqual(cc.features);
  expect(gc.order, `${label} leaf order`).toEqual(cc.order);
  expect(gc.tokens).toBe(cc.tokens);
  expectClose(`${label} linkage`, gc.linkage.dist, cc.linkage.dist, ATOL, RTOL);
  expectClose(`${label} heat`, gc.heatByPosition.flat(), cc.heatByPosition.flat(), 0, 0);
  expectClose(`${label} fire heat`, gc.fireByPosition.flat(), cc.fireByPosition.flat(), 0, 0);
  expect(gc.heatBySequence).toEqual(cc.heatBySequence);
}

describe('evaluateHeldOut: GPU reductions = CPU reductions', () => {
  for (const architecture of ['relu', 'topk', 'jumprelu'] as const)
    it(`${architecture}: unsplit and in 3 row blocks; traces from kept f, or a second pass`, async () => {
      const cfg = gpuCfg({ architecture, d_sae: 70, k: 9, lr: 3e-3, temporal_coefficient: 0.1 });
      const gpu = await getTestGpu();
      const first = gpuBatch(cfg, 600);
      const w0 = initWeights(cfg, first);
      // Two features that never fire (no gradient reaches b_enc of a feature that is never active).
      w0.b_enc[3] = w0.b_enc[40] = -1e3;
      // Kept f per batch: 24 rows × 70 features × 4 = 6720 bytes. Budgets: all five batches kept (the
      // traces gathered from them), two kept then out of room (released; a second forward pass), none.
      const cases = [
        { limit: undefined, keep: undefined, secondPass: 0 },
        { limit: 4000, keep: undefined, secondPass: 0 },
        { limit: undefined, keep: 2 * 6720, secondPass: 3 },
        { limit: 4000, keep: 0, secondPass: 3 },
      ];
      for (const { limit, keep, secondPass } of cases) {
        const t = await createTrainer(gpu, cfg, w0, {
          limits: limit ? { maxStorageBufferBindingSize: limit } : undefined,
          evalKeepBytes: keep,
        });
        for (let s = 0; s < 12; s++) t.trainStep(s === 0 ? first : gpuBatch(cfg, 600 + s));
        await t.readMetrics();
        const data = heldOut(cfg);
        const opts = { d_sae: cfg.d_sae, clusterK: 12, maxClusterTokens: 60 };
        const cpu = await evaluateHeldOut(
          (b) => t.forward(b),
          () => data,
          opts,
        );
        let gathers = 0;
        const res = await evaluateHeldOut(
          (b) => Promise.reject(new Error(`forward called on ${b.S} rows`)),
          () => data,
          {
            ...opts,
            evalForward: (b, o) => {
              // The clustering's second pass gathers without reductions; the SPEC §11 metrics' gather of
              // every feature (the first batches, with their reductions) is not counted here.
              if (o?.gather && o.reduce === false) gathers++;
              return t.evalForward(b, o);
            },
          },
        );
        // 60 traced tokens: a second pass forwards the first 3 batches (≤ 21 valid tokens each) again.
        expect(gathers).toBe(secondPass);
        expect(cpu.metrics.dead_count).toBeGreaterThanOrEqual(2);
        compare(res, cpu, `${architecture} limit ${limit ?? 'none'} keep ${keep ?? 'default'}`);
        t.destroy();
      }
    });
});
