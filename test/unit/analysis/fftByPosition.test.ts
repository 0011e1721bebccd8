// The FFT high/low ratio by position (fftByPosition.ts, SPEC §11): hand-worked windows of 8 tokens
// (5 rfft bins, bins 0–1 low, 2–4 high), the window sliding along a trace, and literature.ts's
// by-position mean over the features active in each window and over segments.
import { describe, expect, it } from 'vitest';
import { hfLfRatio } from '../../../src/analysis/fft';
import { FFT_WINDOW, windowedHfLfRatio } from '../../../src/analysis/fftByPosition';
import { LiteratureAccumulator } from '../../../src/analysis/literature';
import { Rng } from '../../../src/data/rng';
import { chunkOf } from './helpers';

const S2 = Math.SQRT2;

describe('windowed FFT ratio, hand-worked', () => {
  it('W = 8: alternating → 1, constant → 0, a step → (2 − √2)/(10 + √2), NaN before the first window', () => {
    expect(FFT_WINDOW).toBe(8);
    // 1 0 1 0 1 0 1 0: X0 = 4, X4 = 4, others 0 → |X|² = 16 (low: bin 0) and 16 (high: bin 4).
    const alt = windowedHfLfRatio([1, 0, 1, 0, 1, 0, 1, 0, 1]);
    for (let t = 0; t < 7; t++) expect(alt[t]).toBeNaN();
    expect(alt[7]).toBeCloseTo(1, 9);
    // The window ending at 8 is 0 1 0 1 0 1 0 1: a circular shift, the same power spectrum.
    expect(alt[8]).toBeCloseTo(1, 9);
    // Constant: all energy in bin 0.
    expect(windowedHfLfRatio(new Array(8).fill(2))[7]).toBeCloseTo(0, 12);
    // 0 0 0 0 1 1 1 1: |X_k| = |sin(πk/2) / sin(πk/8)| for k ≠ 0, so |X0|² = 16, |X1|² = 1/sin²(π/8) =
    // 4 + 2√2, |X2|² = 0, |X3|² = 1/sin²(3π/8) = 4 − 2√2, |X4|² = 0: low 20 + 2√2, high 4 − 2√2.
    const step = windowedHfLfRatio([0, 0, 0, 0, 1, 1, 1, 1, 0]);
    expect(step[7]).toBeCloseTo((2 - S2) / (10 + S2), 12);
    // Ending at 8: 0 0 0 1 1 1 1 0, a circular shift of the step: the same ratio.
    expect(step[8]).toBeCloseTo((2 - S2) / (10 + S2), 12);
  });

  it('a window where the feature is off has no value; others are hfLfRatio of the window, bit for bit', () => {
    const tr = [0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0];
    const r = windowedHfLfRatio(tr);
    expect(r[8]).toBeNaN(); // positions 1..8 all zero
    // Windows ending 9..16 hold the 3; 17 (positions 10..17) does not.
    for (let t = 9; t <= 16; t++) expect(r[t]).toBe(hfLfRatio(tr.slice(t - 7, t + 1)));
    expect(r[17]).toBeNaN();
    // A single spike has a flat spectrum: |X_k|² = 9 for all 5 bins → 3·9 / (2·9) = 1.5.
    expect(r[12]).toBeCloseTo(1.5, 9);
    const rng = new Rng(5);
    const x = Array.from({ length: 40 }, () => (rng.next() < 0.4 ? rng.next() : 0));
    const w = windowedHfLfRatio(x);
    for (let t = 7; t < 40; t++) {
      const win = x.slice(t - 7, t + 1);
      if (win.every((v) => v === 0)) expect(w[t]).toBeNaN();
      else expect(w[t]).toBe(hfLfRatio(win));
    }
    expect(() => windowedHfLfRatio(x, 17)).toThrow('FFT window must be an integer in 2..16');
  });
});

describe('literature metrics: fft_hf_ratio by position', () => {
  it('mean over the features active in the window, then over segments', () => {
    // Row 0 (one segment of 9 tokens): f0 alternates 1 0 1 0 …, f1 is 2 throughout.
    //   t = 7, 8: f0's window ratio 1, f1's 0 → mean 0.5.
    // Row 1: only f1 (constant 2) → 0 at t = 7, 8.  Over the two segments: (0.5 + 0)/2 = 0.25.
    const T = 9;
    const f: number[][] = [];
    for (let t = 0; t < T; t++) f.push([t % 2 === 0 ? 1 : 0, 2]);
    for (let t = 0; t < T; t++) f.push([0, 2]);
    const x = Array.from({ length: 2 * T }, (_, n) => [n % T]); // ‖Δx‖ = 1 at every pair
    const a = new LiteratureAccumulator(2, T, 1);
    a.add(chunkOf({ S: 2, T, f, x }));
    const r = a.result();
    const p = r.byPosition.fft_hf_ratio;
    for (let t = 0; t < 7; t++) expect(p[t]).toBeNaN();
    expect(p[7]).toBeCloseTo(0.25, 9);
    expect(p[8]).toBeCloseTo(0.25, 9);
  });

  it('a document start cuts the window: no value until 8 tokens of the new segment', () => {
    // One row of 12 tokens, a document starts at 4: segments [0, 4) (too short) and [4, 12).
    const T = 12;
    const f = Array.from({ length: T }, (_, t) => [t % 2 === 0 ? 1 : 0]);
    const start = new Array(T).fill(0);
    start[4] = 1;
    const a = new LiteratureAccumulator(1, T, 1);
    a.add(chunkOf({ S: 1, T, f, x: f.map((_, t) => [t]), start }));
    const p = a.result().byPosition.fft_hf_ratio;
    for (let t = 0; t < 11; t++) expect(p[t], `t ${t}`).toBeNaN();
    // [4..11] = 1 0 1 0 1 0 1 0 → 1.
    expect(p[11]).toBeCloseTo(1, 9);
  });
});
