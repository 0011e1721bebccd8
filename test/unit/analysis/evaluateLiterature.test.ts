// evaluateHeldOut reports SPEC §11 (T-SAE) metrics: the same numbers as the accumulator run by hand on
// the batches within the token budget, on the CPU path and on the GPU-reduction path (where a plain
// forward supplies f), and per Matryoshka prefix with a decoder whose full prefix reproduces SPEC §6's
// explained variance.
import { describe, expect, it } from 'vitest';
import { evaluateHeldOut } from '../../../src/analysis/evaluate';
import { evalSumsFromChunk, gatherTwin } from '../../../src/analysis/evalPartials';
import type { EvalForwardOptions } from '../../../src/sae/trainerApi';
import { LiteratureAccumulator } from '../../../src/analysis/literature';
import type { ActivationBatch } from '../../../src/data/types';
import { Rng } from '../../../src/data/rng';
import { randomChunk } from './helpers';

const S = 4,
  T = 16,
  d = 3,
  m = 10;

/** Batches whose x̂ = b_dec + f·W_dec for a random decoder (so prefix EV of [0, m) = explained_variance). */
function batches(seed: number, count: number) {
  const rng = new Rng(seed);
  const W_dec = Float32Array.from({ length: m * d }, () => rng.normal() * 0.5);
  const b_dec = Float32Array.from({ length: d }, () => rng.normal());
  const data = Array.from({ length: count }, () => {
    const c = randomChunk(rng, S, T, d, m);
    const xhat = new Float32Array(S * T * d);
    for (let n = 0; n < S * T; n++)
      for (let j = 0; j < d; j++) {
        let v = b_dec[j];
        for (let i = 0; i < m; i++) v += c.f[n * m + i] * W_dec[i * d + j];
        xhat[n * d + j] = v;
      }
    const b: ActivationBatch = {
      S,
      T,
      d,
      x: c.x,
      start: c.start,
      valid: c.valid,
      seqIndex: new Int32Array(S),
    };
    return { b, f: c.f, xhat, chunk: { ...c, xhat } };
  });
  return { data, decoder: { d_in: d, d_sae: m, W_dec, b_dec } };
}

describe('evaluateHeldOut: SPEC §11 metrics', () => {
  it('CPU path: the accumulator over the batches within the token budget', async () => {
    const { data } = batches(5, 4);
    const forward = async (b: ActivationBatch) => {
      const e = data.find((x) => x.b === b)!;
      return { f: e.f, xhat: e.xhat };
    };
    const valid = (k: number) => data[k].b.valid.reduce((s, v) => s + v, 0);
    // A budget the first two batches reach: the third and fourth are left out.
    const budget = valid(0) + 1;
    const r = await evaluateHeldOut(forward, () => data.map((e) => e.b), {
      d_sae: m,
      clusterK: 0,
      literatureTokens: budget,
    });
    const want = new LiteratureAccumulator(m, T, d);
    want.add(data[0].chunk);
    want.add(data[1].chunk);
    const w = want.result();
    expect(r.metrics.act_smoothness).toBe(w.act_smoothness);
    expect(r.metrics.fft_hf_ratio).toBe(w.fft_hf_ratio);
    expect(r.metrics.sequence_l0).toBe(w.sequence_l0);
    expect(r.literature!.tokens).toBe(valid(0) + valid(1));
    expect(r.byPosition.act_smoothness).toEqual(w.byPosition.act_smoothness);
    expect(r.byPosition.sequence_l0).toEqual(w.byPosition.sequence_l0);
    // Budget 0 skips them.
    const off = await evaluateHeldOut(forward, () => data.map((e) => e.b), {
      d_sae: m,
      clusterK: 0,
      literatureTokens: 0,
    });
    expect(off.literature).toBeNull();
    expect(off.metrics.act_smoothness).toBeUndefined();
    expect(off.byPosition.sequence_l0.every(Number.isNaN)).toBe(true);
  });

  it('GPU path: every feature gathered in the reduction call, same numbers; prefixes with the decoder', async () => {
    const { data, decoder } = batches(6, 3);
    const find = (b: ActivationBatch) => data.find((x) => x.b === b)!;
    let forwards = 0,
      decoderCalls = 0,
      submitted = -1;
    const forward = async (b: ActivationBatch) => {
      forwards++;
      const e = find(b);
      return { f: e.f, xhat: e.xhat };
    };
    const gathers: number[] = [];
    const evalForward = async (b: ActivationBatch, o: EvalForwardOptions = {}) => {
      const c = find(b).chunk;
      if (o.gather) gathers.push(o.gather.length);
      return { sums: evalSumsFromChunk(c), traces: o.gather ? gatherTwin(c, o.gather) : undefined };
    };
    const opts = {
      d_sae: m,
      clusterK: 0,
      prefixes: [2, 5, m],
      onSubmit: (g: number) => (submitted = g),
      decoder: async () => {
        // Asked for with the first group, as the ground-truth decoder is.
        expect(submitted).toBe(-1);
        decoderCalls++;
        return decoder;
      },
    };
    const gpu = await evaluateHeldOut(forward, () => data.map((e) => e.b), { ...opts, evalForward });
    // No forward on the GPU path: all 10 features of the 3 batches came with their reductions.
    expect(forwards).toBe(0);
    expect(gathers).toEqual([10, 10, 10]);
    expect(decoderCalls).toBe(1);
    submitted = -1;
    const cpu = await evaluateHeldOut(forward, () => data.map((e) => e.b), opts);
    expect(forwards).toBe(3);
    expect(gpu.literature).toEqual(cpu.literature);
    const g = gpu.literature!.groups!;
    expect(g.map((x) => [x.start, x.end])).toEqual([[0, 2], [2, 5], [5, 10]]); // prettier-ignore
    // Nested prefixes on the same f: the full prefix is x̂ itself.
    expect(g[2].explained_variance).toBeCloseTo(gpu.metrics.explained_variance, 5);
    expect(g[0].explained_variance).not.toBeCloseTo(g[2].explained_variance, 2);
    expect(gpu.literature!.byPosition.explained_variance_prefix!.length).toBe(3);
    // The evaluation's byPosition carries each prefix's line too (the experiment's by_position reads it).
    gpu.literature!.byPosition.explained_variance_prefix!.forEach((row, i) =>
      expect(gpu.byPosition[`explained_variance_prefix_${i + 1}`]).toEqual(row),
    );
    expect(gpu.byPosition).not.toHaveProperty('explained_variance_prefix_4');
  });
});

describe('evaluateHeldOut: SPEC §11 f too wide to gather', () => {
  it('falls back to a plain forward of the budget batches (same group), same numbers as the CPU path', async () => {
    // 64 rows × 65 600 features × 4 bytes > the 16 MB gather cap.
    const Sb = 2,
      Tb = 32,
      db = 2,
      mb = 65_600;
    const rng = new Rng(17);
    const N = Sb * Tb;
    const f = new Float32Array(N * mb);
    for (let k = 0; k < 600; k++)
      f[Math.floor(rng.next() * N) * mb + Math.floor(rng.next() * 40)] = 0.5 + rng.next();
    const x = Float32Array.from({ length: N * db }, () => rng.normal());
    const start = new Uint8Array(N);
    start[0] = start[Tb] = 1;
    const b: ActivationBatch = {
      S: Sb,
      T: Tb,
      d: db,
      x,
      start,
      valid: new Uint8Array(N).fill(1),
      seqIndex: new Int32Array(Sb),
    };
    const xhat = new Float32Array(N * db);
    let forwards = 0,
      gathers = 0;
    const forward = async () => {
      forwards++;
      return { f, xhat };
    };
    const chunk = { S: Sb, T: Tb, d: db, m: mb, x, xhat, f, start: b.start, valid: b.valid };
    const evalForward = async (_b: ActivationBatch, o: EvalForwardOptions = {}) => {
      if (o.gather) gathers++;
      return { sums: evalSumsFromChunk(chunk) };
    };
    const gpu = await evaluateHeldOut(forward, () => [b], { d_sae: mb, clusterK: 0, evalForward });
    expect([forwards, gathers]).toEqual([1, 0]);
    const cpu = await evaluateHeldOut(forward, () => [b], { d_sae: mb, clusterK: 0 });
    expect(gpu.literature).toEqual(cpu.literature);
    expect(gpu.metrics.sequence_l0).toBeGreaterThan(0);
    // Consumed a row per task (2^20 entries of f per task): the same numbers as the whole chunk at once.
    const whole = new LiteratureAccumulator(mb, Tb, db);
    whole.add(chunk);
    expect(gpu.literature).toEqual(whole.result());
  });
});

describe('evaluateHeldOut: SPEC §11 byte cap', () => {
  it('a first batch whose f and x exceed literatureBytes skips the metrics (no readback of it)', async () => {
    const { data } = batches(8, 2);
    let forwards = 0;
    const forward = async (b: ActivationBatch) => {
      forwards++;
      const e = data.find((x) => x.b === b)!;
      return { f: e.f, xhat: e.xhat };
    };
    const evalForward = async (b: ActivationBatch, o: EvalForwardOptions = {}) => {
      expect(o.gather).toBeUndefined();
      return { sums: evalSumsFromChunk({ ...data.find((x) => x.b === b)!.chunk, m }) };
    };
    // One batch: S·T·(m + d)·4 = 4·16·13·4 = 3328 bytes.
    const r = await evaluateHeldOut(forward, () => data.map((e) => e.b), {
      d_sae: m,
      clusterK: 0,
      evalForward,
      literatureBytes: 3000,
    });
    expect(forwards).toBe(0);
    expect(r.literature).toBeNull();
    expect(r.metrics.act_smoothness).toBeUndefined();
    // Room for exactly one batch: the metrics are of that one.
    const one = await evaluateHeldOut(forward, () => data.map((e) => e.b), {
      d_sae: m,
      clusterK: 0,
      literatureBytes: 3328,
    });
    const want = new LiteratureAccumulator(m, T, d);
    want.add(data[0].chunk);
    expect(one.literature).toEqual(want.result());
  });
});
