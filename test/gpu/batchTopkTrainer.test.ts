// The BatchTopK trainer (architecture 'batchtopk', src/sae/architectures/batchtopk.ts) end to end on the
// GPU: steps against the float64 reference (methods.ts via referenceStep) with the batch in one row block
// and split into three (the select spans blocks) and feature blocks; the inference threshold θ
// hand-worked from the step's own f (SAELens update_topk_threshold); evaluation and forward() through
// f = pre·H(pre − θ); θ through checkpoints (whole and streamed), the SAELens export and its import.
// Tolerances as trainerRun.test.ts (metrics rtol 1e-3 over 20 steps, weights atol 2e-3 with a median
// |diff| below 1e-5). θ is an EMA of the smallest selected pre-activation, a float32 value the GPU
// computes to ~1e-6: rtol 1e-4 over 20 steps. A selection flip between float32 and float64 at the cut
// would move one entry of f, the gradient of one feature, and fail the weight checks: the data has no
// near-ties at the cut (random normal values), which the exact f check of step 1 confirms.
import { describe, expect, it } from 'vitest';
import {
  bytesReader,
  openCheckpoint,
  parseCheckpoint,
  restoreCheckpoint,
  serializeCheckpoint,
  streamCheckpoint,
} from '../../src/io/checkpoint';
import { buildSaeFolder, streamSaeWeights, WEIGHTS_FILE } from '../../src/io/exportSae';
import { importSaeFolder } from '../../src/io/importSae';
import type { TrainConfig } from '../../src/sae/config';
import { initWeights } from '../../src/sae/init';
import { initRefState, referenceStep, type RefState } from '../../src/sae/reference';
import { thresholdActive } from '../../src/sae/reference/batchTopk';
import { createTrainer, TrainingDivergedError, type GpuSaeTrainer } from '../../src/sae/trainer';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';
import { gpuBatch, gpuCfg } from './fixtures';

const STEPS = 20;

const cfgOf = (o: Partial<TrainConfig> = {}): TrainConfig =>
  gpuCfg({
    architecture: 'batchtopk',
    lr: 1e-3,
    training_tokens: 24 * STEPS,
    temporal_coefficient: 0.3,
    dead_feature_window: 60,
    topk_threshold_lr: 0.1, // larger than SAELens's 0.01 so θ moves visibly in 20 steps
    ...o,
  });

const median = (a: number[]) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];

/** The inference f of a batch from pre: pre where the row is valid and pre > θ (CPU). */
function inferenceF(pre: Float32Array, valid: Uint8Array, m: number, theta: number): Float32Array {
  const a = thresholdActive(pre, theta);
  return pre.map((v, q) => (a[q] && valid[Math.floor(q / m)] ? v : 0));
}

describe('BatchTopK trainer vs the float64 reference', () => {
  // The tiled design's workgroup sizes for the select are in test/gpu/batchTopk.test.ts (SwiftShader runs
  // the tiled GEMMs' 256-wide workgroups too slowly for a run here).
  const layouts: [string, number | undefined, 'blocked' | 'tiled', 'zero' | 'skip'][] = [
    ['one block, seq_start zero', undefined, 'blocked', 'zero'],
    // 1280 bytes: one sequence of f (8 × 40 floats) per row block, W_enc/W_dec in 26 + 14 features.
    ['3 row blocks × 2 feature blocks, seq_start skip', 1280, 'blocked', 'skip'],
  ];
  for (const [name, bind, gemmDesign, seq_start_mode] of layouts)
    it(`${STEPS} steps, θ each read (${name})`, async () => {
      const steps = STEPS;
      const cfg = cfgOf({ seq_start_mode });
      const gpu = await getTestGpu();
      const first = gpuBatch(cfg, 700);
      const w0 = initWeights(cfg, first);
      const limits = bind ? { maxStorageBufferBindingSize: bind } : undefined;
      const trainer = await createTrainer(gpu, cfg, w0, { gemmDesign, limits });
      if (bind) expect([trainer.chunks.rowBlocks.length, trainer.chunks.featBlocks.length]).toEqual([3, 2]);
      let ref: RefState = initRefState(w0);
      for (let s = 0; s < steps; s++) {
        const batch = s === 0 ? first : gpuBatch(cfg, 700 + s);
        trainer.trainStep(batch);
        const r = referenceStep(ref, batch, cfg);
        if (s === 0) {
          // The step's training f: exactly k·N_valid = 6·21 entries, the reference's.
          const f = await trainer.readRaw('f');
          expect(f.filter((v) => v !== 0).length).toBe(6 * 21);
          expectClose('f step 1', f, r.objective.fwd.f, 1e-5, 1e-4);
        }
        ref = r.state;
        if (s % 5 !== 4 && s > 1 && s !== steps - 1) continue;
        const g = await trainer.readMetrics();
        for (const key of ['l_recon', 'l_temp', 'loss', 'alpha', 'l_max', 'l0', 'grad_norm'] as const)
          expectClose(`step ${s + 1} ${key}`, [g[key]], [r.metrics[key]], 1e-5, 1e-3);
        expect(g.l0).toBeCloseTo(6, 10); // k per valid token, exactly (no ties in these data)
        expect(g.dead_count).toBe(r.metrics.dead_count);
        const theta = (await trainer.getWeights()).topk_threshold!;
        expectClose(`step ${s + 1} θ`, [theta], [ref.weights.topk_threshold!], 0, 1e-4);
      }
      const st = await trainer.getState();
      for (const p of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
        const [got, want] = [st.weights[p], ref.weights[p]];
        expectClose(`weights ${p}`, got, want, 2e-3, 0);
        expect(
          median(Array.from(got, (v, j) => Math.abs(v - want[j]))),
          `median |diff| of ${p}`,
        ).toBeLessThan(1e-5);
      }
      expectClose('tokens_since_fired', st.tokens_since_fired, ref.tokens_since_fired, 0, 0);
      trainer.destroy();
    });
});

describe('BatchTopK inference threshold θ', () => {
  async function trained(steps: number): Promise<{ trainer: GpuSaeTrainer; cfg: TrainConfig }> {
    const cfg = cfgOf();
    const gpu = await getTestGpu();
    const trainer = await createTrainer(gpu, cfg, initWeights(cfg, gpuBatch(cfg, 800)));
    for (let s = 0; s < steps; s++) trainer.trainStep(gpuBatch(cfg, 800 + s));
    return { trainer, cfg };
  }

  it('hand-worked θ₀ = 0, θ ← (1 − lr)·θ + lr·(smallest active f of the step); restored after a divergence; inference uses θ', async () => {
    const { trainer, cfg } = await trained(0);
    const lr = Math.fround(cfg.topk_threshold_lr);
    const fr = Math.fround;
    let want = 0;
    expect((await trainer.getWeights()).topk_threshold).toBe(0);
    for (let s = 0; s < 3; s++) {
      trainer.trainStep(gpuBatch(cfg, 900 + s));
      const f = await trainer.readRaw('f');
      const vmin = Math.min(...Array.from(f).filter((v) => v > 0));
      want = fr(fr(fr(1 - lr) * want) + fr(lr * vmin));
      const got = (await trainer.getWeights()).topk_threshold!;
      expect(Math.abs(got - want), `step ${s + 1}: θ ${got}, hand-worked ${want}`).toBeLessThanOrEqual(
        1e-6 * want,
      );
      if (s === 0) expect(got).toBeCloseTo(0.1 * vmin, 6); // 0.9·0 + 0.1·v*
    }
    // A diverged step puts θ back with the weights (it is in the snapshot's state buffer).
    const good = (await trainer.getWeights()).topk_threshold!;
    await trainer.readMetrics(); // the snapshot of step 3
    const bad = gpuBatch(cfg, 903);
    bad.x[5] = NaN;
    trainer.trainStep(bad);
    trainer.trainStep(gpuBatch(cfg, 904));
    await expect(trainer.readMetrics()).rejects.toBeInstanceOf(TrainingDivergedError);
    expect((await trainer.getWeights()).topk_threshold).toBe(good);
    // forward() and the held-out evaluation use f = pre·H(pre − θ), not the batch select.
    const theta = (await trainer.getWeights()).topk_threshold!;
    expect(theta).toBeGreaterThan(0);
    const batch = gpuBatch(cfg, 950);
    const { f } = await trainer.forward(batch);
    const pre = await trainer.readRaw('pre');
    const wantF = inferenceF(pre, batch.valid, cfg.d_sae, theta);
    expectClose('inference f', f, wantF, 0, 0);
    // The select would keep exactly k per valid token; the threshold does not (here: a different count).
    const l0 = wantF.filter((v) => v !== 0).length;
    expect(l0).not.toBe(6 * 21);
    // The evaluation sums count the same active features per token.
    const { sums } = await trainer.evalForward(batch);
    let evalL0 = 0;
    for (let n = 0; n < batch.S * batch.T; n++) if (batch.valid[n]) evalL0 += sums!.rowFeat[n * 6];
    expect(evalL0).toBe(l0);
    trainer.destroy();
  });

  it('checkpoint round trip (whole, streamed): θ restored, the next step identical; SAELens export and import', async () => {
    const { trainer, cfg } = await trained(3);
    const gpu = await getTestGpu();
    const base = {
      config: cfg,
      data_state: null,
      scaling_factor: 1,
      created_at: '2026-01-01T00:00:00Z',
    };
    const theta = (await trainer.getWeights()).topk_threshold!;
    expect(theta).toBeGreaterThan(0);
    const whole = serializeCheckpoint({ ...base, trainer: await trainer.getState() });
    const parts: Uint8Array[] = [];
    await streamCheckpoint(trainer, base, { write: (b) => void parts.push(b.slice()) });
    expect(Buffer.concat(parts).equals(Buffer.from(whole)), 'streamed bytes = whole bytes').toBe(true);
    const ck = parseCheckpoint(whole, 'ck.safetensors');
    expect(ck.trainer.weights.topk_threshold).toBe(theta);
    const fromState = await createTrainer(gpu, cfg, ck.trainer);
    const streamed = await createTrainer(gpu, cfg, null);
    await restoreCheckpoint(streamed, await openCheckpoint(bytesReader(whole), 'ck.safetensors'));
    const next = gpuBatch(cfg, 990);
    const after: number[][] = [];
    for (const t of [trainer, fromState, streamed]) {
      expect((await t.getWeights()).topk_threshold).toBe(theta);
      t.trainStep(next);
      const m = await t.readMetrics();
      after.push([m.l_recon, m.loss, m.grad_norm, (await t.getWeights()).topk_threshold!]);
    }
    expect(after[1]).toEqual(after[0]);
    expect(after[2]).toEqual(after[0]);
    fromState.destroy();
    streamed.destroy();
    // SAELens export (whole and streamed) and import: a JumpReLU with threshold θ, back as BatchTopK.
    const w = await trainer.getWeights();
    const folder = buildSaeFolder({
      weights: w,
      config: cfg,
      scaling_factor: 1,
      density: null,
      steps: 4,
      tokens_seen: 4 * 21,
    });
    const cfgJson = JSON.parse(new TextDecoder().decode(folder.get('cfg.json')));
    expect(cfgJson.architecture).toBe('jumprelu');
    // Streamed from the trainer's state tensors (the app's and CLI's export path): the same bytes.
    const wParts: Uint8Array[] = [];
    await streamSaeWeights((n) => trainer.readStateTensor!(n), cfg, 1, {
      write: (b) => void wParts.push(b.slice()),
    });
    expect(Buffer.concat(wParts).equals(Buffer.from(folder.get(WEIGHTS_FILE)!))).toBe(true);
    const imp = importSaeFolder(folder, 'btk');
    expect(imp.format).toBe('temposae');
    expect(imp.config.architecture).toBe('batchtopk');
    expect(imp.weights.topk_threshold).toBe(w.topk_threshold);
    expect(imp.weights.log_threshold).toBeUndefined();
    expect(imp.warnings).toEqual([]);
    // The imported SAE encodes a batch exactly as the trained one does at inference.
    const back = await createTrainer(gpu, imp.config, imp.weights);
    const batch = gpuBatch(cfg, 995);
    expectClose('imported forward f', (await back.forward(batch)).f, (await trainer.forward(batch)).f, 0, 0);
    back.destroy();
    trainer.destroy();
  });
});
