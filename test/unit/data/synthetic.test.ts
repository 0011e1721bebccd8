// The built-in dataset (SPEC §8) is what it claims: a seeded, reproducible sum of known unit directions
// with Markov on/off chains (persistent and one-token features), documents with BOS tokens, and token
// text tied to the truth.
import { describe, expect, it } from 'vitest';
import { createBatcher } from '../../../src/data/batcher';
import { createSyntheticSource, syntheticConfig, SYNTHETIC_BOS } from '../../../src/data/synthetic';

describe('synthetic dataset', () => {
  const src = createSyntheticSource(syntheticConfig('tiny', 3));
  const { d, F, seqLen: T } = { d: src.d, F: src.F, seqLen: src.seqLen };

  it('is reproducible per seed and sequence, and differs across seeds', async () => {
    const a = await src.readSequences([5, 1]);
    const b = await createSyntheticSource(syntheticConfig('tiny', 3)).readSequences([1, 5]);
    expect(a.x.subarray(0, T * d)).toEqual(b.x.subarray(T * d));
    expect(a.tokenIds!.subarray(T)).toEqual(b.tokenIds!.subarray(0, T));
    const c = await createSyntheticSource(syntheticConfig('tiny', 4)).readSequences([5]);
    expect(c.x).not.toEqual(a.x.subarray(0, T * d));
  });

  it('true directions have unit norm', () => {
    for (let i = 0; i < F; i++) {
      let n = 0;
      for (let j = 0; j < d; j++) n += src.trueDictionary[i * d + j] ** 2;
      expect(n).toBeCloseTo(1, 5);
    }
  });

  it('x = Σ a_i·u_i + noise, with the truth it reports', async () => {
    const seqs = [...Array(32)].map((_, i) => i);
    const { x } = await src.readSequences(seqs);
    const truth = src.truth(seqs);
    expect(truth.offsets.length).toBe(seqs.length * T + 1);
    let sq = 0;
    for (let n = 0; n < seqs.length * T; n++) {
      const r = Float64Array.from(x.subarray(n * d, (n + 1) * d));
      for (let k = truth.offsets[n]; k < truth.offsets[n + 1]; k++) {
        expect(truth.values[k]).toBeGreaterThan(0);
        for (let j = 0; j < d; j++) r[j] -= truth.values[k] * src.trueDictionary[truth.features[k] * d + j];
      }
      for (const v of r) sq += v * v;
    }
    const noiseVar = sq / (seqs.length * T * d);
    const sd = src.config.noise * (src.config.scale ?? 1);
    expect(Math.sqrt(noiseVar)).toBeGreaterThan(0.9 * sd);
    expect(Math.sqrt(noiseVar)).toBeLessThan(1.1 * sd);
  });

  it('persistent features last longer than one-token features; densities near their targets', () => {
    const s = createSyntheticSource(syntheticConfig('default', 1, { numSequences: 200 }));
    const seqs = [...Array(200)].map((_, i) => i);
    const truth = s.truth(seqs);
    const on = new Uint8Array(s.F * seqs.length * s.seqLen); // [F, N]
    const N = seqs.length * s.seqLen;
    for (let n = 0; n < N; n++)
      for (let k = truth.offsets[n]; k < truth.offsets[n + 1]; k++) on[truth.features[k] * N + n] = 1;
    const runLen = (f: number) => {
      let runs = 0,
        count = 0;
      for (let n = 0; n < N; n++) {
        if (on[f * N + n]) {
          count++;
          if (n % s.seqLen === 0 || !on[f * N + n - 1]) runs++;
        }
      }
      return runs ? count / runs : 0;
    };
    const short: number[] = [],
      long: number[] = [];
    for (let f = 0; f < s.F; f++) (s.persistence[f] === 0 ? short : long).push(runLen(f));
    const mean = (a: number[]) =>
      a.filter((v) => v > 0).reduce((x, y) => x + y, 0) / a.filter((v) => v > 0).length;
    expect(mean(short)).toBeLessThan(1.2);
    expect(mean(long)).toBeGreaterThan(4);
    const l0 = truth.features.length / N;
    const density = l0 / s.F;
    const cfg = s.config;
    expect(density).toBeGreaterThan(cfg.densityMin);
    expect(density).toBeLessThan(cfg.densityMax);
    console.log(
      `default preset: L0 ${l0.toFixed(2)} true features per token, mean run length ${mean(short).toFixed(2)} (q = 0) vs ${mean(long).toFixed(2)} (persistent)`,
    );
  });

  it('token ids: BOS at document starts, else the strongest active feature; text names them', async () => {
    const seqs = [0, 1, 2, 3];
    const { tokenIds } = await src.readSequences(seqs);
    const truth = src.truth(seqs);
    let docs = 0;
    for (let n = 0; n < seqs.length * T; n++) {
      const id = tokenIds![n];
      if (n % T === 0) expect(id).toBe(SYNTHETIC_BOS);
      if (id === SYNTHETIC_BOS) {
        docs++;
        continue;
      }
      let best = -1,
        bestA = 0;
      for (let k = truth.offsets[n]; k < truth.offsets[n + 1]; k++) {
        if (truth.values[k] > bestA) {
          bestA = truth.values[k];
          best = truth.features[k];
        }
      }
      expect(src.tokenText(id)).toBe(best < 0 ? '·' : `f${best}`);
    }
    expect(docs).toBeGreaterThan(seqs.length); // some documents start inside sequences
    expect(src.tokenText(0)).toBe('<bos>');
    expect(src.vocabulary().length).toBe(F + 2);
  });

  it('feeds the batcher: BOS tokens become document starts', async () => {
    const b = await createBatcher(src, {
      seqsPerBatch: 8,
      contextSize: T,
      seed: 1,
      docStartTokenIds: [SYNTHETIC_BOS],
    });
    const batch = await b.next();
    for (let n = 0; n < batch.S * T; n++)
      expect(batch.start[n]).toBe(n % T === 0 || batch.tokenIds![n] === SYNTHETIC_BOS ? 1 : 0);
  });
});
