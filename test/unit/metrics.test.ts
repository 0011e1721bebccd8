// Metric functions (SPEC §6) against hand-computed small cases and a naive re-implementation.
import { describe, expect, it } from 'vitest';
import { ReconAccumulator } from '../../src/analysis/reconstruction';
import { SparsityAccumulator } from '../../src/analysis/sparsity';
import { densityHistogram } from '../../src/analysis/histogram';
import { matchTrueFeatures, mmcs, recovered } from '../../src/analysis/groundTruth';
import { Rng } from '../../src/data/rng';
import { chunkOf, randomChunk, splitBySequence } from './analysis/helpers';

describe('reconstruction metrics', () => {
  it('match a hand-worked two-token case', () => {
    // x = e1, e2; x̂ = (2,0), (0.5,0.5). x̄ = (.5,.5): Σ‖x−x̄‖² = 1; SSE = 1 + 0.5 = 1.5.
    const a = new ReconAccumulator(2, 2);
    a.add(chunkOf({ S: 1, T: 2, x: [[1, 0], [0, 1]], xhat: [[2, 0], [0.5, 0.5]] })); // prettier-ignore
    const r = a.result();
    expect(r.explained_variance).toBeCloseTo(-0.5, 12);
    expect(r.mse).toBeCloseTo(1.5 / 4, 12);
    expect(r.cossim).toBeCloseTo((1 + Math.SQRT1_2) / 2, 12);
    expect(r.l2_ratio).toBeCloseTo((2 + Math.SQRT1_2) / 2, 12);
    // E‖x̂‖² / E[x̂·x] = (4 + 0.5) / (2 + 0.5)
    expect(r.relative_reconstruction_bias).toBeCloseTo(1.8, 12);
    expect(Array.from(a.byPosition().recon_loss)).toEqual([1, 0.5]);
  });

  it('ignore padding tokens', () => {
    const a = new ReconAccumulator(2, 3);
    a.add(chunkOf({ S: 1, T: 3, x: [[1, 0], [0, 1], [9, 9]], xhat: [[2, 0], [0.5, 0.5], [0, 0]], valid: [1, 1, 0] })); // prettier-ignore
    expect(a.result().explained_variance).toBeCloseTo(-0.5, 12);
    expect(a.tokens).toBe(2);
  });

  it('streamed in chunks equal the two-pass formula on offset random data', () => {
    const rng = new Rng(7);
    const c = randomChunk(rng, 6, 16, 8, 4);
    const a = new ReconAccumulator(8, 16);
    for (const p of splitBySequence(c)) a.add(p);
    // Direct two-pass computation.
    const N = c.S * c.T,
      d = c.d;
    const mean = new Float64Array(d);
    let n = 0;
    for (let k = 0; k < N; k++) if (c.valid[k]) { n++; for (let j = 0; j < d; j++) mean[j] += c.x[k * d + j]; } // prettier-ignore
    mean.forEach((v, j) => (mean[j] = v / n));
    let sst = 0,
      sse = 0;
    for (let k = 0; k < N; k++)
      if (c.valid[k])
        for (let j = 0; j < d; j++) {
          sst += (c.x[k * d + j] - mean[j]) ** 2;
          sse += (c.x[k * d + j] - c.xhat[k * d + j]) ** 2;
        }
    expect(a.result().explained_variance).toBeCloseTo(1 - sse / sst, 10);
    expect(a.result().mse).toBeCloseTo(sse / (n * d), 12);
  });
});

describe('sparsity metrics', () => {
  it('match a hand-worked case', () => {
    const a = new SparsityAccumulator(3, 3);
    a.add(chunkOf({ S: 1, T: 3, f: [[0, 1, 2], [0, 0, 3], [0, 0, 0]] })); // prettier-ignore
    const r = a.result();
    expect(r.l0).toBeCloseTo(1, 12);
    expect(r.l1).toBeCloseTo(2, 12);
    expect(Array.from(a.density())).toEqual([0, 1 / 3, 2 / 3]);
    expect(r.dead_count).toBe(1);
    expect(r.dense_count).toBe(2);
    expect(Array.from(a.l0ByPosition())).toEqual([2, 1, 0]);
    // Variance of feature 2 over (2, 3, 0): mean 5/3, E[f²] = 13/3.
    expect(a.variance()[2]).toBeCloseTo(13 / 3 - 25 / 9, 12);
    expect(Array.from(a.fireByPos.slice(2 * 3, 3 * 3))).toEqual([1, 1, 0]);
  });

  it('histogram puts dead features at −10 and dense ones above −1', () => {
    const h = densityHistogram([0, 0, 1e-3, 0.5, 1], { bins: 10 });
    expect(h.counts[0]).toBe(2);
    expect(h.counts[7]).toBe(1); // log10(1e-3) = −3 → bin 7 of [−10, 0]
    expect(h.counts[9]).toBe(2);
    expect(h.dead).toBe(2);
    expect(h.dense).toBe(2);
    expect(h.counts.reduce((s, v) => s + v, 0)).toBe(5);
  });
});

describe('ground truth', () => {
  it('mmcs and recovered on a hand-worked dictionary', () => {
    // True features e1, e2. Decoder rows (0.6,0.8), (1,0), (0,−1): best cosines 1 (row 1) and 0.8 (row 0).
    const m = matchTrueFeatures(
      Float32Array.from([1, 0, 0, 1]),
      2,
      Float32Array.from([0.6, 0.8, 1, 0, 0, -1]),
      3,
      2,
    );
    expect(Array.from(m.index)).toEqual([1, 0]);
    expect(mmcs(m)).toBeCloseTo(0.9, 6);
    expect(recovered(m)).toBe(0.5);
  });

  it('normalizes rows that are not unit length', () => {
    const m = matchTrueFeatures(Float32Array.from([3, 0]), 1, Float32Array.from([0, 2, 5, 0]), 2, 2);
    expect(m.cos[0]).toBeCloseTo(1, 6);
    expect(m.index[0]).toBe(1);
  });
});
