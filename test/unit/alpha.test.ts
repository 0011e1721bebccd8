import { describe, expect, it } from 'vitest';
import { sigmoid, updateAlpha, type AlphaConfig } from '../../src/sae/alpha';
import type { AlphaState } from '../../src/sae/types';

function run(cfg: AlphaConfig, losses: number[]) {
  let s: AlphaState = { l_max: null };
  return losses.map((l) => {
    const u = updateAlpha(s, l, cfg);
    s = u.state;
    return u;
  });
}

const seq = [4, 2, 3, 10];
const base = { alpha_beta: 5, lmax_momentum: 0.9 } as const;

describe('updateAlpha (SPEC §4), hand-worked with μ = 0.9, β = 5, L_recon = 4, 2, 3, 10', () => {
  it("'max' + 'absolute'", () => {
    // L_max: 4; max(2, 3.6+0.2=3.8); max(3, 3.42+0.3=3.72); max(10, 3.348+1=4.348) = 10
    const r = run({ ...base, lmax_mode: 'max', alpha_mode: 'absolute' }, seq);
    const lmax = [4, 3.8, 3.72, 10];
    const alpha = [0.5, sigmoid(5 * 1.8), sigmoid(5 * 0.72), 0.5];
    r.forEach((u, i) => {
      expect(u.l_max).toBeCloseTo(lmax[i], 12);
      expect(u.state.l_max).toBeCloseTo(lmax[i], 12);
      expect(u.alpha).toBeCloseTo(alpha[i], 12);
      expect(u.alpha).toBeGreaterThanOrEqual(0.5); // a true maximum keeps α ∈ [½, 1)
    });
    expect(r[1].alpha).toBeCloseTo(0.9998766054240137, 12); // σ(9)
  });

  it("'ema' + 'absolute': α drops below ½ when the loss jumps", () => {
    const r = run({ ...base, lmax_mode: 'ema', alpha_mode: 'absolute' }, seq);
    const lmax = [4, 3.8, 3.72, 4.348];
    r.forEach((u, i) => expect(u.l_max).toBeCloseTo(lmax[i], 12));
    expect(r[3].alpha).toBeCloseTo(sigmoid(5 * (4.348 - 10)), 12);
    expect(r[3].alpha).toBeLessThan(1e-12);
  });

  it("'relative' divides the gap by L_max", () => {
    const r = run({ ...base, lmax_mode: 'max', alpha_mode: 'relative' }, seq);
    expect(r[1].alpha).toBeCloseTo(sigmoid((5 * 1.8) / 3.8), 12);
    expect(r[2].alpha).toBeCloseTo(sigmoid((5 * 0.72) / 3.72), 12);
    // Relative does not saturate when losses are large: the same shape ×100 gives the same α.
    const big = run(
      { ...base, lmax_mode: 'max', alpha_mode: 'relative' },
      seq.map((v) => v * 100),
    );
    big.forEach((u, i) => expect(u.alpha).toBeCloseTo(r[i].alpha, 12));
    expect(updateAlpha({ l_max: 0 }, 0, { ...base, lmax_mode: 'max', alpha_mode: 'relative' }).alpha).toBe(
      0.5,
    );
  });

  it('is pure and σ is stable for large |z|', () => {
    const s: AlphaState = { l_max: 3 };
    updateAlpha(s, 1, { ...base, lmax_mode: 'max', alpha_mode: 'absolute' });
    expect(s.l_max).toBe(3);
    expect(sigmoid(-800)).toBe(0);
    expect(sigmoid(800)).toBe(1);
    expect(sigmoid(0)).toBe(0.5);
  });
});
