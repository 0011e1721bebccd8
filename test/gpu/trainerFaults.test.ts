// The trainer's edges: divergence is caught at readback and the last good state restored; configs that
// do not fit are refused before allocation with the bytes and the limit; state round-trips exactly;
// forward() on a partial batch; TopK selection edge cases (ties, fewer positives than k, all-dead rows).
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../../src/sae/config';
import { initWeights } from '../../src/sae/init';
import { planMemory } from '../../src/sae/memoryPlan';
import { referenceForward, refWeightsFromSae } from '../../src/sae/reference';
import { ConfigRefusedError, createTrainer, TrainingDivergedError } from '../../src/sae/trainer';
import { topkTwin } from '../../src/sae/twins/activation';
import type { SaeWeights } from '../../src/sae/types';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';
import { gpuBatch, gpuCfg } from './fixtures';

describe('divergence', () => {
  it('a NaN in the data is reported with its step and term, and the last good weights come back', async () => {
    const gpu = await getTestGpu();
    const cfg = gpuCfg();
    const b = (s: number) => gpuBatch(cfg, 300 + s);
    const trainer = await createTrainer(gpu, cfg, initWeights(cfg, b(0)));
    trainer.trainStep(b(0));
    trainer.trainStep(b(1));
    const good = await trainer.readMetrics(); // snapshot of step 2
    expect(good.step).toBe(2);
    const w2 = await trainer.getWeights();
    const bad = b(2);
    bad.x[5] = NaN;
    trainer.trainStep(bad); // step 3 diverges
    trainer.trainStep(b(3));
    const err = await trainer.readMetrics().then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TrainingDivergedError);
    const de = err as TrainingDivergedError;
    expect(de.step).toBe(3);
    expect(de.terms).toContain('L_recon');
    expect(de.message).toMatch(/step 3/);
    expect(trainer.step).toBe(2);
    const back = await trainer.getWeights();
    for (const p of ['W_enc', 'b_enc', 'W_dec', 'b_dec'] as const) expectClose(p, back[p], w2[p], 0, 0);
    // Training goes on from the restored state.
    trainer.trainStep(b(4));
    const next = await trainer.readMetrics();
    expect(next.step).toBe(3);
    expect(Number.isFinite(next.loss)).toBe(true);
    trainer.destroy();
  });
});

describe('divergence without snapshots', () => {
  it('reports the step and says the weights were not restored; the plan is smaller by one copy', async () => {
    const gpu = await getTestGpu();
    const cfg = gpuCfg();
    const limits = { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 30 };
    const withSnap = planMemory(cfg, limits);
    const without = planMemory(cfg, limits, { snapshots: false });
    // One copy of W_enc, W_dec, b_enc, b_dec, log θ, their Adam m and v, the counters and the α state.
    const { d_in: d, d_sae: m } = cfg;
    expect(withSnap.bytes - without.bytes).toBe(4 * 3 * (2 * d * m + m + d + m) + 4 * m + 4 * 8);
    const b = gpuBatch(cfg, 600);
    const trainer = await createTrainer(gpu, cfg, initWeights(cfg, b), { snapshots: false });
    const bad = gpuBatch(cfg, 601);
    bad.x.fill(Infinity, 0, 4);
    trainer.trainStep(b);
    trainer.trainStep(bad);
    const err = (await trainer.readMetrics().catch((e: unknown) => e)) as TrainingDivergedError;
    expect(err).toBeInstanceOf(TrainingDivergedError);
    expect(err.step).toBe(2);
    expect(err.restored).toBe(false);
    expect(err.message).toMatch(/NOT restored/);
    trainer.destroy();
  });
});

describe('memory plan', () => {
  const small = { maxStorageBufferBindingSize: 134217728, maxBufferSize: 268435456 };

  it('splits d=2304, d_sae=65536 across bindings to fit a 128 MiB binding limit', () => {
    const cfg = { ...DEFAULT_CONFIG, d_in: 2304, d_sae: 65536 };
    const plan = planMemory(cfg, small);
    expect(plan.fits).toBe(true);
    // W_enc (604 MB) in blocks of 14528 features (33.5M floats ≤ 128 MiB), pre/f/g in blocks of 4 sequences.
    expect(plan.chunks!.featBlocks.map((b) => b.feats)).toEqual([14528, 14528, 14528, 14528, 7424]);
    expect(plan.chunks!.rowBlocks.map((b) => b.rows)).toEqual([512, 512, 512, 512]);
    expect(plan.largestBuffer.bytes).toBeLessThanOrEqual(134217728);
    // The total counts every buffer: weights, grads, Adam and snapshots of both matrices alone are 14×.
    expect(plan.bytes).toBeGreaterThan(2304 * 65536 * 4 * 14);
    const budget = planMemory(cfg, { ...small, memoryBudgetBytes: 2 ** 33 });
    expect(budget.fits).toBe(false);
    expect(budget.reason).toContain(String(2 ** 33));
    expect(budget.reason).toContain(String(plan.bytes));
  });

  it('refuses when one sequence of activations exceeds the binding limit, naming bytes and limit', () => {
    const cfg = { ...DEFAULT_CONFIG, d_in: 2304, d_sae: 65536, context_size: 1024, seqs_per_batch: 2 };
    const plan = planMemory(cfg, small);
    expect(plan.fits).toBe(false);
    expect(plan.reason).toContain(String(1024 * 65536 * 4));
    expect(plan.reason).toContain('maxStorageBufferBindingSize');
    expect(plan.reason).toContain('134217728');
  });

  it('createTrainer refuses before allocating when a buffer exceeds an (artificially small) binding limit', async () => {
    const gpu = await getTestGpu();
    const cfg = gpuCfg();
    const w = initWeights(cfg, gpuBatch(cfg, 1));
    const err = await createTrainer(gpu, cfg, w, { limits: { maxStorageBufferBindingSize: 1024 } }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(ConfigRefusedError);
    expect(String(err.message)).toMatch(
      /needs \d+ bytes but the adapter's maxStorageBufferBindingSize is 1024 bytes/,
    );
  });
});

describe('state and forward', () => {
  it('getState → setState on a new trainer continues bit-identically', async () => {
    const gpu = await getTestGpu();
    const cfg = gpuCfg({ architecture: 'jumprelu', temporal_coefficient: 0.2 });
    const b = (s: number) => gpuBatch(cfg, 400 + s);
    const a = await createTrainer(gpu, cfg, initWeights(cfg, b(0)));
    for (let s = 0; s < 3; s++) a.trainStep(b(s));
    const saved = await a.getState();
    const c = await createTrainer(gpu, cfg, saved);
    expect(c.step).toBe(3);
    a.trainStep(b(3));
    c.trainStep(b(3));
    const [ma, mc] = [await a.readMetrics(), await c.readMetrics()];
    expect(mc).toEqual(ma);
    const [wa, wc] = [await a.getWeights(), await c.getWeights()];
    for (const p of ['W_enc', 'b_enc', 'W_dec', 'b_dec', 'log_threshold'] as const)
      expectClose(p, wc[p]!, wa[p]!, 0, 0);
    a.destroy();
    c.destroy();
  });

  it('forward on one sequence of a 3-sequence trainer matches the reference forward', async () => {
    const gpu = await getTestGpu();
    const cfg = gpuCfg({ architecture: 'topk' });
    const full = gpuBatch(cfg, 7);
    const w = initWeights(cfg, full);
    const trainer = await createTrainer(gpu, cfg, w);
    const T = cfg.context_size;
    const one = {
      ...full,
      S: 1,
      x: full.x.slice(0, T * cfg.d_in),
      start: full.start.slice(0, T),
      valid: full.valid.slice(0, T).fill(1),
      seqIndex: full.seqIndex.slice(0, 1),
    };
    const out = await trainer.forward(one);
    const ref = referenceForward(refWeightsFromSae(w), one, cfg);
    expectClose('f', out.f, ref.f, 1e-5, 1e-4);
    expectClose('xhat', out.xhat, ref.xhat, 1e-5, 1e-4);
    trainer.destroy();
  });
});

describe('TopK selection edge cases (pre = x through an identity encoder)', () => {
  // d_in = d_sae = m, W_enc = I, b_enc = 0, b_dec = 0, so pre is exactly the batch row.
  const m = 300;
  function identity(): SaeWeights {
    const W = new Float32Array(m * m);
    for (let i = 0; i < m; i++) W[i * m + i] = 1;
    return {
      d_in: m,
      d_sae: m,
      W_enc: W,
      b_enc: new Float32Array(m),
      W_dec: W.slice(),
      b_dec: new Float32Array(m),
    };
  }
  function rows(): Float32Array {
    const x = new Float32Array(8 * m);
    const r = (n: number) => x.subarray(n * m, (n + 1) * m);
    r(0).forEach((_, i, a) => (a[i] = Math.sin(i * 12.9898) * 3)); // distinct values, mixed signs
    r(1).fill(0.5); // every value tied
    r(2).forEach((_, i, a) => (a[i] = i % 7 === 0 ? 1.25 : i % 3 === 0 ? 2.5 : -1)); // ties straddle the k-th
    r(3).fill(-1); // no positive value: an all-dead row
    r(4).forEach((_, i, a) => (a[i] = i < 3 ? i + 1 : 0)); // fewer positives than k, zeros
    r(5).forEach((_, i, a) => (a[i] = (i % 5) * 1e-30)); // tiny and denormal-range values
    r(6).forEach((_, i, a) => (a[i] = 1 + i * 1e-7)); // values differing in the last bits
    r(7).forEach((_, i, a) => (a[i] = i === m - 1 ? 1e30 : -1e30));
    return x;
  }
  for (const k of [1, 5, 64, 299, 300])
    it(`k = ${k}`, async () => {
      const gpu = await getTestGpu();
      const cfg = {
        ...gpuCfg({ architecture: 'topk', k }),
        d_in: m,
        d_sae: m,
        seqs_per_batch: 1,
        context_size: 8,
      };
      const x = rows();
      const batch = {
        S: 1,
        T: 8,
        d: m,
        x,
        start: Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]),
        valid: new Uint8Array(8).fill(1),
        seqIndex: Int32Array.from([0]),
      };
      const trainer = await createTrainer(gpu, cfg, identity());
      const { f } = await trainer.forward(batch);
      // Exact: selection copies values, so any difference is a selection error.
      expectClose(`topk k=${k}`, f, topkTwin(x, batch.valid, 8, m, k), 0, 0);
      trainer.destroy();
    });
});
