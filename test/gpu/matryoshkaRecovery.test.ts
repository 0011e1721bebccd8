// SPEC §8 for Matryoshka BatchTopK (issue 14 "done when": every method recovers the built-in dictionary
// on an easy preset): the GPU trainer with architecture 'matryoshka_batchtopk' and the adaptive temporal
// term on recovers the tiny preset's true dictionary (F = 32 features in d = 16, L0 ≈ 1.1; mmcs > 0.9).
// Settings, measured on SwiftShader with init seed 3 (test/gpu/methodTrainerSteps.ts trainOnTinyPreset,
// d_sae 64, 8 × 32 tokens a step, lr 0.02, λ2 0.3, 400 steps): two prefixes [12, 64] weighted 0.2 / 0.8
// (the T-SAE code's split) reach mmcs 0.927 at k 1 (0.893 at k 2); SAELens-style equal weights on four
// prefixes d_sae/8, /4, /2 stay at 0.79–0.88 in 300–400 steps (the 8-feature first prefix has to
// reconstruct alone and pulls its features toward blends), and two equal halves [32] reach 0.866.
import { describe, expect, it } from 'vitest';
import { trainOnTinyPreset } from './methodTrainerSteps';

const STEPS = 400;

describe('Matryoshka BatchTopK recovers the built-in dataset (tiny preset)', () => {
  it(`prefixes [12, 64] weighted 0.2/0.8, k 1, λ2 0.3, ${STEPS} steps: loss falls, mmcs > 0.9`, async () => {
    const r = await trainOnTinyPreset(
      {
        architecture: 'matryoshka_batchtopk',
        k: 1,
        lr: 0.02,
        temporal_coefficient: 0.3,
        matryoshka_widths: [12],
        matryoshka_weights: [0.2, 0.8],
      },
      STEPS,
    );
    console.log(
      `matryoshka_batchtopk: ${STEPS} steps in ${(r.ms / 1000).toFixed(1)} s; L_recon ${r.first.toFixed(3)} → ` +
        `${r.last.toFixed(3)}; mmcs ${r.mmcs.toFixed(3)}, recovered ${r.recovered.toFixed(2)}`,
    );
    expect(r.last).toBeLessThan(0.3 * r.first);
    expect(r.mmcs).toBeGreaterThan(0.9);
  });
});
