// The T-SAE trainer (src/sae/architectures/tsae.ts: Matryoshka BatchTopK + InfoNCE on adjacent tokens'
// high-level codes) against the float64 reference (src/sae/reference/methods.ts via referenceStep), with
// the helpers and tolerances of matryoshkaTrainer.test.ts. The fixture batch has a document start
// mid-sequence and padding (one token inside a sequence, two at the end), so pairs across a start or
// next to padding would change L_nce and fail the comparison.
import { describe, it } from 'vitest';
import type { TrainConfig } from '../../src/sae/config';
import { gpuCfg } from './fixtures';
import { oneStepMatchesReference, RUN_SETTINGS, stepsMatchReference } from './methodTrainerSteps';

const base = (o: Partial<TrainConfig>): TrainConfig =>
  gpuCfg({ architecture: 'tsae', temporal_coefficient: 0.5, contrastive_coefficient: 0.5, ...o });

describe('T-SAE: one GPU step vs the float64 reference', () => {
  it('defaults: high-level prefix 0.2·d_sae, cosine, τ 1, weights 0.1/0.4', () =>
    oneStepMatchesReference(base({})));
  it('dot similarity (the code), τ 0.5, skip start', () =>
    oneStepMatchesReference(
      base({ contrastive_similarity: 'dot', contrastive_temperature: 0.5, seq_start_mode: 'skip' }),
    ));
  it('three prefixes with their own weights, no temporal penalty', () =>
    oneStepMatchesReference(
      base({ matryoshka_widths: [6, 20], matryoshka_weights: [0.5, 0.3, 0.2], temporal_coefficient: 0 }),
    ));
});

describe('T-SAE: 20 GPU steps vs 20 reference steps', () => {
  it('warm-up, cosine schedule, dead features', () => stepsMatchReference(base({ ...RUN_SETTINGS }), 20));
});
