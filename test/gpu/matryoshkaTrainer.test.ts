// The Matryoshka BatchTopK trainer (src/sae/architectures/matryoshka.ts; its loss stages in
// src/sae/gpu/passes/losses.ts and backward.ts) against the float64 reference (src/sae/reference/
// methods.ts via referenceStep): one whole step with every projected gradient, and 20 steps with
// Adam. T-SAE, which adds the contrastive term, is in tsaeTrainer.test.ts; both share these helpers.
//
// Tolerances as trainerStep.test.ts and trainerRun.test.ts (float32 vs float64, O(1) data): after one
// step losses rtol 1e-4 / atol 1e-5 and gradients atol 1e-5 + rtol 1e-3; over 20 Adam steps metrics
// rtol 1e-3 and weights atol 2e-3 with a median |diff| below 1e-5. A wrong prefix boundary, weight or
// 1/G gives errors ≥ 1e-2 in L_mat and in the gradients of the features at the boundary.
import { describe, it } from 'vitest';
import type { TrainConfig } from '../../src/sae/config';
import { gpuCfg } from './fixtures';
import { oneStepMatchesReference, RUN_SETTINGS, stepsMatchReference } from './methodTrainerSteps';

const base = (o: Partial<TrainConfig>): TrainConfig =>
  gpuCfg({ architecture: 'matryoshka_batchtopk', temporal_coefficient: 0.5, ...o });

describe('Matryoshka BatchTopK: one GPU step vs the float64 reference', () => {
  it('default prefixes (d_sae/8, /4, /2, d_sae), weight 1 each, zero start', () =>
    oneStepMatchesReference(base({})));
  it('two uneven prefixes with their own weights, skip start', () =>
    oneStepMatchesReference(
      base({ matryoshka_widths: [7], matryoshka_weights: [0.7, 0.2], seq_start_mode: 'skip' }),
    ));
  it('d_sae appended to widths that stop short (as SAELens), λ2 = 0', () =>
    oneStepMatchesReference(base({ matryoshka_widths: [3, 11, 29], temporal_coefficient: 0 })));
});

describe('Matryoshka BatchTopK: 20 GPU steps vs 20 reference steps', () => {
  it('warm-up, cosine schedule, dead features', () =>
    stepsMatchReference(base({ ...RUN_SETTINGS, matryoshka_widths: [5, 20] }), 20));
});
