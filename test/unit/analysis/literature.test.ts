// T-SAE's temporal metrics (SPEC §11): the FFT against a direct DFT, the high/low energy ratio on a
// hand-worked sinusoid and step, activation smoothness / sequence L0 / prefix explained variance on a
// hand-worked sequence, and the whole accumulator against a line-by-line port of the paper's
// evaluation.py (lipschitz_cont, fft_smoothness, sequence_l0) on random rows.
import { describe, expect, it } from 'vitest';
import { hfLfRatio, rfftPower } from '../../../src/analysis/fft';
import { groupBounds, LiteratureAccumulator } from '../../../src/analysis/literature';
import { Rng } from '../../../src/data/rng';
import { chunkOf, randomChunk, splitBySequence } from './helpers';

function naiveDftPower(x: number[]): number[] {
  const L = x.length;
  return Array.from({ length: Math.floor(L / 2) + 1 }, (_, k) => {
    let r = 0,
      i = 0;
    for (let t = 0; t < L; t++) {
      r += x[t] * Math.cos((2 * Math.PI * k * t) / L);
      i -= x[t] * Math.sin((2 * Math.PI * k * t) / L);
    }
    return r * r + i * i;
  });
}

describe('rfftPower', () => {
  it('matches a direct DFT at every length 1..70 (radix-2, Bluestein, direct)', () => {
    const rng = new Rng(3);
    for (let L = 1; L <= 70; L++) {
      const x = Array.from({ length: L }, () => rng.normal());
      const want = naiveDftPower(x);
      const got = rfftPower(x);
      expect(got.length).toBe(want.length);
      const scale = want.reduce((s, v) => Math.max(s, v), 1);
      for (let k = 0; k < want.length; k++) expect(Math.abs(got[k] - want[k])).toBeLessThan(1e-9 * scale);
    }
  });
});

describe('hfLfRatio (fft_smoothness, cutoff 0.5)', () => {
  it('a sinusoid: all energy above or below the cutoff', () => {
    // L = 8 → 5 bins, cutoff_idx = int(0.5·5) = 2: low = bins {0, 1}, high = {2, 3, 4}.
    const at = (k: number) => Array.from({ length: 8 }, (_, t) => 1 + Math.cos((2 * Math.PI * k * t) / 8));
    // 1 + cos(2π·3t/8): DC |8|² = 64, bin 3 |4|² = 16 → 16 / 64.
    expect(hfLfRatio(at(3))).toBeCloseTo(0.25, 10);
    // 1 + cos(2πt/8): the cosine is in bin 1, below the cutoff → 0.
    expect(hfLfRatio(at(1))).toBeCloseTo(0, 10);
    // A constant: only DC.
    expect(hfLfRatio([2, 2, 2, 2, 2, 2, 2, 2])).toBeCloseTo(0, 12);
  });

  it('a step 0 0 0 0 1 1 1 1', () => {
    // |X_0|² = 16; |X_k|² = 4/|1 − w|², w = e^{−iπk/4}, for odd k (0 for even k ≠ 0):
    // |X_1|² = 4/(2 − √2) = 2(2 + √2), |X_3|² = 4/(2 + √2) = 2(2 − √2).
    // ratio = 2(2 − √2) / (16 + 2(2 + √2)) = (2 − √2) / (10 + √2).
    const s2 = Math.SQRT2;
    expect(hfLfRatio([0, 0, 0, 0, 1, 1, 1, 1])).toBeCloseTo((2 - s2) / (10 + s2), 12);
    // Alternating on/off: all energy at Nyquist except DC: X_0 = 4, X_4 = 4 → 16 / 16.
    expect(hfLfRatio([1, 0, 1, 0, 1, 0, 1, 0])).toBeCloseTo(1, 9);
  });
});

// One sequence of 3 tokens, d = 1, x = 0 2 3 (‖Δx‖ = 2, 1); three features:
//   f0 = 1 0 1   max(|−1|/2, |1|/1) = 1         FFT: X0 = 2, |X1|² = 1 → 1/4
//   f1 = 0 0 3   max(0, 3/1) = 3                FFT: |X0|² = |X1|² = 9 → 1
//   f2 = 2 2 2   0                              FFT: 0
const F3 = [[1, 0, 2], [0, 0, 2], [1, 3, 2]]; // prettier-ignore
const X3 = [[0], [2], [3]];

describe('literature metrics, hand-worked', () => {
  it('activation smoothness, FFT ratio, sequence L0, by position', () => {
    const a = new LiteratureAccumulator(3, 3, 1);
    a.add(chunkOf({ S: 1, T: 3, f: F3, x: X3 }));
    const r = a.result();
    expect(r.act_smoothness).toBeCloseTo((1 + 3 + 0) / 3, 12);
    // (The paper's + 1e-10 in the denominator moves these by ~1e-11.)
    expect(r.fft_hf_ratio).toBeCloseTo((0.25 + 1 + 0) / 3, 9);
    expect(r.sequence_l0).toBe(3);
    expect(r.segments).toBe(1);
    // t = 1: (0.5 + 0 + 0)/3; t = 2: (1 + 3 + 0)/3.
    expect(r.byPosition.act_smoothness[0]).toBeNaN();
    expect(r.byPosition.act_smoothness[1]).toBeCloseTo(1 / 6, 12);
    expect(r.byPosition.act_smoothness[2]).toBeCloseTo(4 / 3, 12);
    // Cumulative distinct features: {0, 2}, {0, 2}, {0, 1, 2}.
    expect(r.byPosition.sequence_l0).toEqual([2, 2, 3]);
    expect(r.groups).toBeUndefined();
  });

  it('Matryoshka groups and prefix explained variance', () => {
    // Groups [0, 1) and [1, 3); W_dec rows 1, 1, 0; b_dec 0.
    // x̂_1 = f0 = 1 0 1; x̂_3 = f0 + f1 = 1 0 4. x̄ = 5/3, Σ(x − x̄)² = 14/3.
    // err_1 = 1 + 4 + 4 = 9 → 1 − 27/14; err_3 = 1 + 4 + 1 = 6 → 1 − 18/14.
    const dec = { d_in: 1, d_sae: 3, W_dec: [1, 1, 0], b_dec: [0] };
    const a = new LiteratureAccumulator(3, 3, 1, [1, 3], dec);
    a.add(chunkOf({ S: 1, T: 3, f: F3, x: X3 }));
    const r = a.result();
    expect(r.groups!.map((g) => [g.start, g.end])).toEqual([[0, 1], [1, 3]]); // prettier-ignore
    expect(r.groups![0].explained_variance).toBeCloseTo(1 - 27 / 14, 12);
    expect(r.groups![1].explained_variance).toBeCloseTo(1 - 18 / 14, 12);
    expect(r.groups![0].act_smoothness).toBeCloseTo(1, 12);
    expect(r.groups![1].act_smoothness).toBeCloseTo(1.5, 12);
    expect(r.groups![0].fft_hf_ratio).toBeCloseTo(0.25, 9);
    expect(r.groups![1].fft_hf_ratio).toBeCloseTo(0.5, 9);
    // By position, x̄ global: (x − x̄)² = 25/9, 1/9, 16/9; prefix-3 errors 1, 4, 1.
    const ev3 = r.byPosition.explained_variance_prefix![1];
    expect(ev3[0]).toBeCloseTo(1 - 9 / 25, 12);
    expect(ev3[1]).toBeCloseTo(1 - 36, 12);
    expect(ev3[2]).toBeCloseTo(1 - 9 / 16, 12);
  });

  it('a document start and padding cut a row into segments', () => {
    // Row of 4: start at t = 2 → segments [0, 2) and [2, 4). x = 0 1 | 5 7, f0 = 1 3 | 0 4.
    const a = new LiteratureAccumulator(1, 4, 1);
    a.add(chunkOf({ S: 1, T: 4, f: [[1], [3], [0], [4]], x: [[0], [1], [5], [7]], start: [1, 0, 1, 0] }));
    const r = a.result();
    // Segment 1: |3 − 1|/1 = 2; segment 2: |4 − 0|/2 = 2. The jump across the start is not counted.
    expect(r.segments).toBe(2);
    expect(r.act_smoothness).toBeCloseTo(2, 12);
    // L = 2: bins {0, 1}, cutoff 1: [1, 3] → 16 vs 4 → 0.25; [0, 4] → 16 vs 16 → 1.
    expect(r.fft_hf_ratio).toBeCloseTo(0.625, 9);
    expect(r.byPosition.sequence_l0).toEqual([1, 1, 0, 1]);
    // Padding at t = 3 shortens the second segment to one token (sequence L0 only).
    const b = new LiteratureAccumulator(1, 4, 1);
    b.add(
      chunkOf({
        S: 1,
        T: 4,
        f: [[1], [3], [0], [4]],
        x: [[0], [1], [5], [7]],
        start: [1, 0, 1, 0],
        valid: [1, 1, 1, 0],
      }),
    );
    const rb = b.result();
    expect(rb.segments).toBe(2);
    expect(rb.act_smoothness).toBeCloseTo(2, 12);
    expect(rb.sequence_l0).toBeCloseTo(0.5, 12);
  });

  it('rejects bad prefixes', () => {
    expect(groupBounds(10, [2, 10])).toEqual([2, 10]);
    expect(groupBounds(10, [2])).toEqual([2, 10]);
    expect(() => groupBounds(10, [5, 3])).toThrow(/increasing/);
    expect(() => groupBounds(10, [0])).toThrow(/increasing/);
    expect(() => groupBounds(10, [11])).toThrow(/increasing/);
  });
});

/** evaluation.py, per sequence (whole row, no documents, no padding), ported line by line. */
function paperPort(f: number[][], x: number[][]) {
  const T = f.length,
    m = f[0].length;
  const active = [...Array(m).keys()].filter((i) => f.reduce((s, r) => s + r[i], 0) !== 0);
  const lips = active.map((i) => {
    let mx = -Infinity;
    for (let t = 1; t < T; t++) {
      const dx = Math.sqrt(x[t].reduce((s, v, j) => s + (v - x[t - 1][j]) ** 2, 0));
      mx = Math.max(mx, Math.abs(f[t][i] - f[t - 1][i]) / dx);
    }
    return mx;
  });
  const ffts = active.map((i) => {
    const p = naiveDftPower(f.map((r) => r[i]));
    const cut = Math.floor(0.5 * p.length);
    const lo = p.slice(0, cut).reduce((s, v) => s + v, 0);
    const hi = p.slice(cut).reduce((s, v) => s + v, 0);
    return hi / (lo + 1e-10);
  });
  const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
  return { lips: mean(lips), fft: mean(ffts), seqL0: active.length };
}

describe('literature metrics against the paper code', () => {
  it('random rows without documents or padding: same numbers, any chunking', () => {
    const rng = new Rng(11);
    const S = 5,
      T = 24,
      d = 4,
      m = 12;
    const c = randomChunk(rng, S, T, d, m, false);
    c.start.fill(0);
    for (let s = 0; s < S; s++) c.start[s * T] = 1;
    const want = { lips: 0, fft: 0, seqL0: 0 };
    for (let s = 0; s < S; s++) {
      const rows = (a: Float32Array, w: number) =>
        Array.from({ length: T }, (_, t) => Array.from(a.subarray((s * T + t) * w, (s * T + t + 1) * w)));
      const p = paperPort(rows(c.f, m), rows(c.x, d));
      want.lips += p.lips / S;
      want.fft += p.fft / S;
      want.seqL0 += p.seqL0 / S;
    }
    const whole = new LiteratureAccumulator(m, T, d);
    whole.add(c);
    const split = new LiteratureAccumulator(m, T, d);
    for (const part of splitBySequence(c)) split.add(part);
    for (const r of [whole.result(), split.result()]) {
      expect(r.act_smoothness).toBeCloseTo(want.lips, 10);
      expect(r.fft_hf_ratio).toBeCloseTo(want.fft, 10);
      expect(r.sequence_l0).toBeCloseTo(want.seqL0, 12);
    }
  });
});
