// The bench's TensorFlow.js peer must do the same maths as our trainer, not a cheaper step, or the
// speed comparison means nothing: its losses, α, L_max and weights over several steps are compared with
// the float64 CPU reference (src/sae/reference, the oracle the GPU trainer is also tested against).
// Runs tf.js on Dawn's WebGPU (SwiftShader here), so this unit test needs the same Vulkan ICD as test/gpu.
import { beforeAll, describe, expect, it } from 'vitest';
import { benchBatch } from '../../bench/batch';
import { nodeGpu } from '../../bench/nodeGpu';
import { createTfjsPeer, peerUnsupported } from '../../bench/tfjsPeer';
import { registerTfjsGradients } from '../../bench/tfjsNode';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/sae/config';
import { initWeights } from '../../src/sae/init';
import { initRefState, referenceStep, type RefState } from '../../src/sae/reference';
import { compareClose } from '../helpers/parity';

const S = 3;
const T = 6;
const d = 8;
const m = 24;
const STEPS = 4;

let gpu: GPU;
beforeAll(async () => {
  gpu = await nodeGpu({ swiftshader: !process.env.VK_ICD_FILENAMES });
  await registerTfjsGradients();
}, 60_000);

/**
 * Small activations keep the reconstruction gradient from drowning the temporal one (λ2·α/N per
 * element), so a wrong temporal term shows in the weights. (Whether |D|'s subgradient at D = 0 is 0, as
 * SPEC §5 says, or tf.abs's −1 cannot show in the weights: D_n = 0 on an active feature needs equal
 * pre-activations, and then the ±1 terms cancel in every parameter gradient.)
 */
function scaled(b: ReturnType<typeof benchBatch>) {
  for (let i = 0; i < b.x.length; i++) b.x[i] *= 0.1;
  return b;
}

async function compareWithReference(over: Partial<TrainConfig>) {
  // lr 1e-2 and λ2 0.5 so that four steps move the weights visibly and the temporal gradient matters.
  const cfg: TrainConfig = {
    ...DEFAULT_CONFIG,
    d_in: d,
    d_sae: m,
    seqs_per_batch: S,
    context_size: T,
    lr: 1e-2,
    temporal_coefficient: 0.5,
    ...over,
  };
  const batches = Array.from({ length: STEPS }, (_, i) => scaled(benchBatch(S, T, d, 100 + i)));
  const init = initWeights(cfg, batches[0]);
  const peer = await createTfjsPeer(gpu, cfg, init);
  let ref: RefState = initRefState(init);
  try {
    for (const [i, b] of batches.entries()) {
      const r = referenceStep(ref, b, cfg);
      ref = r.state;
      peer.step(b);
      const got = await peer.readLosses();
      const want = r.metrics;
      // float32 sums over ≤ 432 terms against float64: relative error ~1e-6; after a few Adam steps
      // the weights differ by ~1e-6 relative too. 1e-4 leaves room without hiding a wrong term
      // (a missing λ2·α·L_temp gradient or an α gradient path changes the losses at the 1e-2 level).
      for (const k of ['l_recon', 'l_sparse', 'l_temp', 'alpha', 'l_max', 'loss'] as const)
        expect(got[k], `step ${i + 1} ${k}`).toBeCloseTo(want[k], Math.abs(want[k]) > 10 ? 2 : 4);
      expect(
        Math.abs(got.loss - want.loss) / Math.abs(want.loss),
        `step ${i + 1} loss (relative)`,
      ).toBeLessThan(1e-4);
    }
    const w = await peer.getWeights();
    // Adam divides by √v, so a gradient entry at float32 noise level can step ±lr either way; entries
    // with exactly zero gradient (features dead on every batch) stay put in both. atol 1e-4 = lr/100.
    for (const k of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) {
      const rep = compareClose(k, w[k], ref.weights[k], 1e-4, 1e-3);
      expect(rep.ok, rep.message).toBe(true);
    }
    // The steps really changed the weights (so matching them means matching the update).
    const moved = compareClose('W_enc moved', w.W_enc, init.W_enc, 1e-3, 0);
    expect(moved.ok).toBe(false);
  } finally {
    peer.dispose();
  }
}

describe('tf.js WebGPU peer (bench) vs the float64 CPU reference', () => {
  it('default method: squared recon, zero at starts, moving max, absolute α', async () => {
    await compareWithReference({});
  });

  it('the other options: norm recon, skip pairs at starts, EMA, relative α', async () => {
    await compareWithReference({
      recon_loss: 'norm',
      seq_start_mode: 'skip',
      lmax_mode: 'ema',
      alpha_mode: 'relative',
    });
  });

  it('refuses what it does not implement, naming it', () => {
    expect(peerUnsupported({ ...DEFAULT_CONFIG, architecture: 'topk' })[0]).toMatch(/topk/);
    expect(peerUnsupported(DEFAULT_CONFIG)).toEqual([]);
  });
});
