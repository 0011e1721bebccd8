// Temporal stability metrics (SPEC §6) against a hand-worked sequence and a naive re-implementation.
import { describe, expect, it } from 'vitest';
import { TemporalAccumulator, type TemporalMetrics } from '../../src/analysis/temporal';
import type { EvalChunk } from '../../src/analysis/chunk';
import { Rng } from '../../src/data/rng';
import { chunkOf, randomChunk, splitBySequence } from './analysis/helpers';

// Feature 0: 1 1 0 0 ; feature 1: 0 2 2 2 (constant on the later side → no autocorrelation).
const F = [[1, 0], [1, 2], [0, 2], [0, 2]]; // prettier-ignore

describe('temporal metrics, hand-worked', () => {
  it('one sequence of four tokens', () => {
    const a = new TemporalAccumulator(2, 4);
    a.add(chunkOf({ S: 1, T: 4, f: F }));
    const r = a.result();
    // Pairs (0,1), (1,2), (2,3): Σ|Δ|₁ = 2 + 1 + 0; Σ‖f_t‖₁ = 3 + 2 + 2.
    expect(r.pairs).toBe(3);
    expect(r.tv_ratio).toBeCloseTo(3 / 7, 12);
    // Jaccard {0}/{0,1} = 1/2, {0,1}/{1} = 1/2, {1}/{1} = 1.
    expect(r.jaccard).toBeCloseTo(2 / 3, 12);
    // Two flips over 3 pairs × 2 alive features.
    expect(r.flip_rate).toBeCloseTo(1 / 3, 12);
    // Runs: feature 0 t0–t1 (2), feature 1 t1–t3 (3).
    expect(r.mean_run_length).toBeCloseTo(2.5, 12);
    // Feature 0: a = (1,1,0), b = (1,0,0): cov 1/9, variances 2/9 → 0.5. Feature 1 is left out.
    expect(r.autocorr).toBeCloseTo(0.5, 12);
    expect(r.autocorr_features).toBe(1);
    const p = a.byPosition();
    expect(Array.from(p.tv_ratio)).toEqual([NaN, 2 / 3, 1 / 2, 0]);
    expect(Array.from(p.jaccard)).toEqual([NaN, 0.5, 0.5, 1]);
    expect(Array.from(p.flip_rate)).toEqual([NaN, 0.5, 0.5, 0]);
    expect(Array.from(p.mean_run_length)).toEqual([2, 3, NaN, NaN]);
  });

  it('a document start breaks pairs and runs', () => {
    const a = new TemporalAccumulator(2, 4);
    a.add(chunkOf({ S: 1, T: 4, f: F, start: [1, 0, 1, 0] }));
    const r = a.result();
    expect(r.pairs).toBe(2);
    expect(r.tv_ratio).toBeCloseTo(2 / 5, 12);
    expect(r.jaccard).toBeCloseTo(0.75, 12);
    expect(r.flip_rate).toBeCloseTo(1 / 4, 12);
    // Runs: feature 0 (2), feature 1 t1 (1) and t2–t3 (2).
    expect(r.mean_run_length).toBeCloseTo(5 / 3, 12);
  });

  it('padding is excluded and ends runs', () => {
    const a = new TemporalAccumulator(2, 4);
    a.add(chunkOf({ S: 1, T: 4, f: F, valid: [1, 1, 1, 0] }));
    const r = a.result();
    expect(r.pairs).toBe(2);
    expect(r.tv_ratio).toBeCloseTo(3 / 5, 12);
    expect(r.mean_run_length).toBeCloseTo(2, 12);
  });
});

/** Straight from the definitions, per feature and per pair, no shared code with the accumulator. */
function naive(chunks: EvalChunk[]): TemporalMetrics {
  const m = chunks[0].m;
  let num = 0, den = 0, jac = 0, jn = 0, flips = 0, pairs = 0; // prettier-ignore
  const fired = new Array(m).fill(false);
  const A: number[][] = Array.from({ length: m }, () => []);
  const B: number[][] = Array.from({ length: m }, () => []);
  const runs: number[] = [];
  for (const c of chunks) {
    for (let s = 0; s < c.S; s++) {
      // Segments: maximal stretches of valid tokens without a start inside.
      const segs: number[][] = [];
      for (let t = 0; t < c.T; t++) {
        const n = s * c.T + t;
        if (!c.valid[n]) continue;
        const cont = t > 0 && c.valid[n - 1] && !c.start[n];
        if (!cont) segs.push([]);
        segs[segs.length - 1].push(n);
      }
      for (const seg of segs) {
        for (let i = 0; i < m; i++) {
          let run = 0;
          for (const n of seg) {
            const v = c.f[n * m + i];
            if (v > 0) { fired[i] = true; run++; } else if (run) { runs.push(run); run = 0; } // prettier-ignore
          }
          if (run) runs.push(run);
        }
        for (let k = 1; k < seg.length; k++) {
          const p = seg[k - 1], n = seg[k]; // prettier-ignore
          pairs++;
          let inter = 0, uni = 0; // prettier-ignore
          for (let i = 0; i < m; i++) {
            const a = c.f[p * m + i], b = c.f[n * m + i]; // prettier-ignore
            num += Math.abs(b - a);
            den += Math.abs(b);
            if (a > 0 && b > 0) inter++;
            if (a > 0 || b > 0) uni++;
            if (a > 0 !== b > 0) flips++;
            A[i].push(a);
            B[i].push(b);
          }
          if (uni) { jac += inter / uni; jn++; } // prettier-ignore
        }
      }
    }
  }
  const alive = fired.filter(Boolean).length;
  let ac = 0, acn = 0; // prettier-ignore
  for (let i = 0; i < m; i++) {
    if (!fired[i]) continue;
    const a = A[i], b = B[i], n = a.length; // prettier-ignore
    const ma = a.reduce((s, v) => s + v, 0) / n, mb = b.reduce((s, v) => s + v, 0) / n; // prettier-ignore
    let cov = 0, va = 0, vb = 0; // prettier-ignore
    for (let k = 0; k < n; k++) { cov += (a[k] - ma) * (b[k] - mb); va += (a[k] - ma) ** 2; vb += (b[k] - mb) ** 2; } // prettier-ignore
    if (va > 1e-9 && vb > 1e-9) { ac += cov / Math.sqrt(va * vb); acn++; } // prettier-ignore
  }
  return {
    tv_ratio: num / den,
    jaccard: jac / jn,
    autocorr: ac / acn,
    mean_run_length: runs.reduce((s, v) => s + v, 0) / runs.length,
    flip_rate: flips / (pairs * alive),
    pairs,
    autocorr_features: acn,
  };
}

describe('temporal metrics vs a naive implementation on random data', () => {
  it('agree, and chunking by sequence changes nothing', () => {
    const rng = new Rng(11);
    const chunks = [randomChunk(rng, 5, 24, 2, 13), randomChunk(rng, 3, 24, 2, 13)];
    const whole = new TemporalAccumulator(13, 24);
    chunks.forEach((c) => whole.add(c));
    const split = new TemporalAccumulator(13, 24);
    chunks.flatMap(splitBySequence).forEach((c) => split.add(c));
    const ref = naive(chunks);
    for (const r of [whole.result(), split.result()]) {
      expect(r.pairs).toBe(ref.pairs);
      expect(r.autocorr_features).toBe(ref.autocorr_features);
      for (const k of ['tv_ratio', 'jaccard', 'autocorr', 'mean_run_length', 'flip_rate'] as const)
        expect(r[k], k).toBeCloseTo(ref[k], 9);
    }
    // The by-position autocorrelation bins partition the pairs; with one bin it equals the overall value.
    const one = new TemporalAccumulator(13, 2);
    const c2 = randomChunk(new Rng(3), 40, 2, 1, 13, false);
    one.add(c2);
    expect(one.byPosition().autocorr[0]).toBeCloseTo(one.result().autocorr, 12);
  });
});
