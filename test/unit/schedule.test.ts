import { describe, expect, it } from 'vitest';
import { lrAt } from '../../src/sae/schedule';
import { DEFAULT_CONFIG, type TrainConfig } from '../../src/sae/config';

// 10 steps of 2×4 tokens.
const base: TrainConfig = {
  ...DEFAULT_CONFIG,
  lr: 1e-3,
  seqs_per_batch: 2,
  context_size: 4,
  training_tokens: 80,
  lr_end_fraction: 0.1,
};

describe('lrAt', () => {
  it('warms up linearly from lr/W at step 0 to lr at step W−1, then stays constant', () => {
    const cfg = { ...base, lr_warm_up_steps: 4, lr_schedule: 'constant' as const };
    const got = [0, 1, 2, 3, 4, 9, 50].map((s) => lrAt(s, cfg));
    const want = [2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3, 1e-3, 1e-3];
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i], 15));
  });

  it('no warmup: the full rate from step 0', () => {
    expect(lrAt(0, { ...base, lr_warm_up_steps: 0, lr_schedule: 'constant' })).toBe(1e-3);
  });

  it('cosine from lr to lr·lr_end_fraction at totalSteps (10), flat after', () => {
    const cfg = { ...base, lr_warm_up_steps: 0, lr_schedule: 'cosine' as const };
    // lr_end = 1e-4; halfway (step 5): 1e-4 + 9e-4·½ = 5.5e-4; step 2: 1e-4 + 9e-4·½(1 + cos(0.2π))
    expect(lrAt(0, cfg)).toBeCloseTo(1e-3, 15);
    expect(lrAt(5, cfg)).toBeCloseTo(5.5e-4, 15);
    expect(lrAt(2, cfg)).toBeCloseTo(1e-4 + 9e-4 * 0.5 * (1 + 0.8090169943749475), 15);
    expect(lrAt(10, cfg)).toBeCloseTo(1e-4, 15);
    expect(lrAt(25, cfg)).toBeCloseTo(1e-4, 15);
  });

  it('cosine after warmup starts at the end of the warmup', () => {
    const cfg = { ...base, lr_warm_up_steps: 2, lr_schedule: 'cosine' as const };
    expect(lrAt(0, cfg)).toBeCloseTo(5e-4, 15);
    expect(lrAt(1, cfg)).toBeCloseTo(1e-3, 15);
    expect(lrAt(2, cfg)).toBeCloseTo(1e-3, 15);
    expect(lrAt(6, cfg)).toBeCloseTo(5.5e-4, 15); // halfway through the 8 cosine steps
    expect(lrAt(10, cfg)).toBeCloseTo(1e-4, 15);
  });
});
