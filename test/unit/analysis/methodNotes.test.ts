// methodNotes: each rule on logged columns built by hand, with the numbers it quotes.
import { describe, expect, it } from 'vitest';
import { methodNotes, type NoteColumns, type NoteConfig } from '../../../src/analysis/methodNotes';

const cfg: NoteConfig = {
  temporal_coefficient: 0.02,
  alpha_beta: 5,
  alpha_mode: 'absolute',
  d_sae: 100,
  architecture: 'relu',
};

/** n readbacks; each column from a function of the row index. */
function cols(n: number, f: Partial<Record<keyof NoteColumns, (i: number) => number>>): NoteColumns {
  const col = (k: keyof NoteColumns, dflt: (i: number) => number) =>
    Array.from({ length: n }, (_, i) => (f[k] ?? dflt)(i));
  const l_recon = col('l_recon', (i) => 10 / (1 + i));
  const alpha = col('alpha', () => 0.8);
  const l_temp = col('l_temp', () => 5);
  return {
    step: col('step', (i) => (i + 1) * 10),
    l_recon,
    l_max: col('l_max', (i) => l_recon[i] + 0.3),
    alpha,
    l_temp,
    loss: col('loss', (i) => l_recon[i] + cfg.temporal_coefficient * alpha[i] * l_temp[i]),
    dead_count: col('dead_count', () => 3),
  };
}

const ids = (n: ReturnType<typeof methodNotes>) => n.map((x) => x.id);

describe('methodNotes', () => {
  it('α saturated in absolute mode, temporal term negligible: says so with β and λ2 to try', () => {
    // From row 2 on: L_recon 1, L_max 5 → gap 4, β·gap = 20, α ≈ 1; λ2·α·L_temp = 0.02·0.1 = 0.002 of 1.002.
    const h = cols(20, {
      l_recon: (i) => (i < 2 ? 5 : 1),
      l_max: () => 5,
      alpha: () => 0.99995,
      l_temp: () => 0.1,
    });
    const notes = methodNotes(h, cfg);
    expect(ids(notes)).toEqual(['alpha-saturated', 'temporal-negligible']);
    const [sat, neg] = notes;
    expect(sat.values.share_above_0_99).toBe(1);
    expect(sat.values.median_gap).toBe(4);
    expect(sat.values.suggested_beta).toBe(0.5);
    expect(sat.text).toContain('100 %');
    expect(sat.suggestion).toContain("'relative'");
    const term = 0.02 * 0.99995 * 0.1;
    expect(neg.values.median_share).toBeCloseTo(term / (1 + term), 12);
    expect(neg.values.suggested_lambda2).toBeCloseTo(0.2, 12);
    expect(neg.text).toContain('0.2 %');
  });

  it('α moving: its 5th–95th percentile range, no warning', () => {
    // α from 0.72 to 0.92 evenly over rows 2..21 (20 values).
    const h = cols(22, { alpha: (i) => 0.72 + (0.2 * Math.max(0, i - 2)) / 19 });
    const notes = methodNotes(h, cfg);
    expect(ids(notes)).toEqual(['alpha-range']);
    expect(notes[0].values.alpha_p05).toBeCloseTo(0.72 + 0.2 * 0.05, 9);
    expect(notes[0].values.alpha_p95).toBeCloseTo(0.72 + 0.2 * 0.95, 9);
    expect(notes[0].level).toBe('info');
  });

  it('α at its floor ½, a dominant temporal term, dead features, no learning', () => {
    const h = cols(20, {
      alpha: () => 0.5,
      l_recon: () => 1,
      l_max: () => 1,
      l_temp: () => 200, // 0.02·0.5·200 = 2 of 3
      dead_count: (i) => (i === 19 ? 80 : 3),
    });
    const notes = methodNotes(h, cfg);
    expect(ids(notes)).toEqual(['alpha-floor', 'temporal-dominant', 'dead-features', 'not-learning']);
    expect(notes[1].values.median_share).toBeCloseTo(2 / 3, 12);
    expect(notes[2].values.dead_share).toBe(0.8);
    expect(notes[3].values.l_recon_first).toBe(1);
  });

  it('a control run, and too few readbacks', () => {
    expect(ids(methodNotes(cols(20, {}), { ...cfg, temporal_coefficient: 0 }))).toEqual(['temporal-off']);
    expect(methodNotes(cols(4, {}), cfg)).toEqual([]);
  });

  it('BatchTopK: θ not yet settled after few steps, settled after enough (no note for other architectures)', () => {
    const btk: NoteConfig = { ...cfg, architecture: 'batchtopk', k: 4, topk_threshold_lr: 0.01 };
    // 20 readbacks, the last at step 200: (1 − 0.01)^200 = 0.1340 of θ's distance left (> 5 %).
    const notes = methodNotes(cols(20, {}), btk).filter((x) => x.id === 'threshold-unsettled');
    expect(notes).toHaveLength(1);
    expect(notes[0].values.remaining).toBeCloseTo(Math.pow(0.99, 200), 12);
    // ln 20 / −ln 0.99 = 298.07 → 299 steps.
    expect(notes[0].values.steps_needed).toBe(299);
    expect(notes[0].text).toContain('k = 4');
    // At step 300: 0.99^300 = 0.049 < 5 %: no note.
    const settled = cols(20, { step: (i) => (i + 1) * 15 });
    expect(ids(methodNotes(settled, btk))).not.toContain('threshold-unsettled');
    expect(ids(methodNotes(cols(20, {}), { ...btk, architecture: 'matryoshka_batchtopk' }))).toContain(
      'threshold-unsettled',
    );
    expect(ids(methodNotes(cols(20, {}), { ...btk, architecture: 'topk' }))).not.toContain(
      'threshold-unsettled',
    );
  });
});
