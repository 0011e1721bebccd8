import { describe, expect, it } from 'vitest';
import { initialTrainerState, initWeights } from '../../src/sae/init';
import { cfgFor, makeBatch } from './referenceFixtures';

describe('initWeights (SPEC §3)', () => {
  const cfg = cfgFor({ d_in: 6, d_sae: 10, seed: 123 });
  const batch = makeBatch(2, 4, 6, 5, { pads: [[1, 2]] });

  it('is deterministic per seed and differs across seeds', () => {
    const a = initWeights(cfg, batch);
    const b = initWeights(cfg, batch);
    const c = initWeights({ ...cfg, seed: 124 }, batch);
    expect(a.W_dec).toEqual(b.W_dec);
    expect(a.b_dec).toEqual(b.b_dec);
    expect(a.W_dec).not.toEqual(c.W_dec);
  });

  it('unit-norm decoder rows, W_enc = W_decᵀ exactly, b_enc = 0', () => {
    const w = initWeights(cfg, batch);
    for (let i = 0; i < 10; i++) {
      let ss = 0;
      for (let j = 0; j < 6; j++) ss += w.W_dec[i * 6 + j] ** 2;
      expect(Math.abs(Math.sqrt(ss) - 1)).toBeLessThan(1e-6); // float32 rounding of each element
      for (let j = 0; j < 6; j++) expect(w.W_enc[j * 10 + i]).toBe(w.W_dec[i * 6 + j]);
    }
    expect(Array.from(w.b_enc)).toEqual(new Array(10).fill(0));
    expect(w.log_threshold).toBeUndefined();
    // Random directions: rows are not all the same and roughly centred.
    let dot = 0;
    for (let j = 0; j < 6; j++) dot += w.W_dec[j] * w.W_dec[6 + j];
    expect(Math.abs(dot)).toBeLessThan(0.999);
  });

  it('b_dec = mean of the valid tokens of the first batch (padding excluded)', () => {
    const w = initWeights(cfg, batch);
    for (let j = 0; j < 6; j++) {
      let s = 0;
      for (let n = 0; n < 8; n++) if (n !== 6) s += batch.x[n * 6 + j];
      expect(w.b_dec[j]).toBeCloseTo(s / 7, 6);
    }
  });

  it('JumpReLU: log_threshold = log(jumprelu_init_threshold)', () => {
    const w = initWeights({ ...cfg, architecture: 'jumprelu', jumprelu_init_threshold: 0.05 }, batch);
    expect(w.log_threshold).toHaveLength(10);
    for (const v of w.log_threshold!) expect(v).toBe(Math.fround(Math.log(0.05)));
  });

  it('refuses a batch of the wrong width, naming both widths', () => {
    expect(() => initWeights({ ...cfg, d_in: 7 }, batch)).toThrow(/width 6.*d_in = 7/);
  });

  it('initialTrainerState: step 0, zero moments, no L_max, counters at 0', () => {
    const s = initialTrainerState(initWeights({ ...cfg, architecture: 'jumprelu' }, batch));
    expect(s.step).toBe(0);
    expect(s.alpha.l_max).toBeNull();
    expect(s.adam.m.W_enc).toHaveLength(60);
    expect(s.adam.v.log_threshold).toHaveLength(10);
    expect(Math.max(...s.adam.v.W_dec, ...s.tokens_since_fired)).toBe(0);
  });
});
