// Shared by matryoshkaTrainer.test.ts and tsaeTrainer.test.ts: the GPU trainer of a Matryoshka-family
// config against the float64 reference (src/sae/reference/methods.ts through referenceStep), one whole
// step with every projected gradient, or several steps with Adam. Tolerances in those files' headers.
import { expect } from 'vitest';
import { matchTrueFeatures, mmcs, recovered } from '../../src/analysis/groundTruth';
import {
  createSyntheticSource,
  SYNTHETIC_BOS,
  SYNTHETIC_RECOMMENDED,
  syntheticConfig,
} from '../../src/data/synthetic';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/sae/config';
import { openRunBatcher } from '../../src/sae/runBatcher';
import { initWeights } from '../../src/sae/init';
import { initRefState, referenceStep, type RefState } from '../../src/sae/reference';
import { createTrainer } from '../../src/sae/trainer';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';
import { gpuBatch } from './fixtures';

const METRICS = ['l_recon', 'l_mat', 'l_nce', 'l_temp', 'loss', 'alpha', 'l_max', 'l0', 'grad_norm'] as const;

/** One GPU step vs referenceStep: metrics, f, every projected gradient, θ and the firing counters. */
export async function oneStepMatchesReference(cfg: TrainConfig): Promise<void> {
  const gpu = await getTestGpu();
  const batch = gpuBatch(cfg, 5);
  const w0 = initWeights(cfg, batch);
  const trainer = await createTrainer(gpu, cfg, w0);
  trainer.trainStep(batch);
  const got = await trainer.readMetrics();
  const ref = referenceStep(initRefState(w0), batch, cfg);
  for (const key of METRICS)
    expectClose(`metric ${key}`, [got[key] ?? NaN], [ref.metrics[key] ?? NaN], 1e-5, 1e-4);
  expect(got.l_mat).toBeGreaterThan(0);
  if (cfg.architecture === 'tsae' && cfg.contrastive_coefficient > 0) expect(got.l_nce).toBeGreaterThan(0);
  expectClose('f', await trainer.readRaw('f'), ref.objective.fwd.f, 1e-5, 1e-4);
  for (const p of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const)
    expectClose(`grad ${p}`, await trainer.readRaw(`grad_${p}`), ref.grads[p], 1e-5, 1e-3);
  const s = await trainer.getState();
  expectClose('tokens_since_fired', s.tokens_since_fired, ref.state.tokens_since_fired, 0, 0);
  expectClose('θ', [s.weights.topk_threshold ?? NaN], [ref.state.weights.topk_threshold ?? NaN], 1e-6, 1e-5);
  trainer.destroy();
}

function median(a: number[]): number {
  const s = a.slice().sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

/** The run settings of the several-step comparisons: warm-up, cosine schedule, features dying. */
export const RUN_SETTINGS: Partial<TrainConfig> = {
  lr: 1e-3,
  lr_warm_up_steps: 5,
  lr_schedule: 'cosine',
  training_tokens: 24 * 20,
  temporal_coefficient: 0.3,
  dead_feature_window: 60,
};

/** `steps` GPU steps vs the reference on fresh batches, with warm-up, cosine schedule and dead features. */
export async function stepsMatchReference(cfg: TrainConfig, steps: number): Promise<void> {
  const gpu = await getTestGpu();
  const first = gpuBatch(cfg, 100);
  const w0 = initWeights(cfg, first);
  const trainer = await createTrainer(gpu, cfg, w0);
  let ref: RefState = initRefState(w0);
  for (let s = 0; s < steps; s++) {
    const batch = s === 0 ? first : gpuBatch(cfg, 100 + s);
    trainer.trainStep(batch);
    const r = referenceStep(ref, batch, cfg);
    ref = r.state;
    if (s % 5 !== 4 && s > 1) continue;
    const g = await trainer.readMetrics();
    expect(g.step).toBe(r.metrics.step);
    for (const key of METRICS)
      expectClose(`step ${s + 1} ${key}`, [g[key] ?? NaN], [r.metrics[key] ?? NaN], 1e-5, 1e-3);
    expect(g.dead_count).toBe(r.metrics.dead_count);
  }
  const st = await trainer.getState();
  expect(st.alpha.l_max).toBeCloseTo(ref.alpha.l_max!, 4);
  for (const p of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
    const [got, want] = [st.weights[p], ref.weights[p]];
    expectClose(`weights ${p}`, got, want, 2e-3, 0);
    expect(median(Array.from(got, (v, j) => Math.abs(v - want[j]))), `median |diff| of ${p}`).toBeLessThan(
      1e-5,
    );
  }
  trainer.destroy();
}

/**
 * Train `architecture` on the built-in data's easy preset ('tiny': F = 32 true features in d = 16, L0 ≈ 2)
 * for `steps` steps of 8 × 32 tokens (unless `o` says otherwise); mmcs/recovered of the decoder against the true dictionary (SPEC §6),
 * the first and last L_recon, and the wall time.
 */
export async function trainOnTinyPreset(
  o: Partial<TrainConfig> & Pick<TrainConfig, 'architecture'>,
  steps: number,
): Promise<{ mmcs: number; recovered: number; first: number; last: number; ms: number; l_nce: number }> {
  const gpu = await getTestGpu();
  const src = createSyntheticSource(syntheticConfig('tiny', 2, { numSequences: 256 }));
  const cfg: TrainConfig = {
    ...DEFAULT_CONFIG,
    ...SYNTHETIC_RECOMMENDED.tiny, // what the app applies for the built-in data (lr 3e-3)
    k: 3,
    d_in: src.d,
    d_sae: 2 * src.F,
    seqs_per_batch: 8,
    context_size: src.seqLen,
    doc_start_token_ids: [SYNTHETIC_BOS],
    seed: 3,
    ...o,
    training_tokens: 0,
  };
  cfg.training_tokens = steps * cfg.seqs_per_batch * cfg.context_size;
  const batcher = await openRunBatcher(src, cfg);
  let batch = await batcher.next();
  const trainer = await createTrainer(gpu, cfg, initWeights(cfg, batch));
  const t0 = performance.now();
  try {
    let first = NaN;
    for (let s = 0; s < steps; s++) {
      trainer.trainStep(batch);
      batch = await batcher.next();
      if (s === 0) first = (await trainer.readMetrics()).l_recon;
    }
    const m = await trainer.readMetrics();
    const w = await trainer.getWeights();
    const match = matchTrueFeatures(src.trueDictionary, src.F, w.W_dec, cfg.d_sae, src.d);
    return {
      mmcs: mmcs(match),
      recovered: recovered(match),
      first,
      last: m.l_recon,
      l_nce: m.l_nce ?? NaN,
      ms: performance.now() - t0,
    };
  } finally {
    trainer.destroy();
  }
}
