// evaluateHeldOut: streams batches through a forward function into the accumulators; the cached and
// the two-pass (re-forward) paths give the same clustering; ground truth is reported on request.
import { describe, expect, it } from 'vitest';
import { evaluateHeldOut } from '../../../src/analysis/evaluate';
import { TemporalAccumulator } from '../../../src/analysis/temporal';
import type { ActivationBatch } from '../../../src/data/types';
import { Rng } from '../../../src/data/rng';
import { randomChunk } from './helpers';

function batches(seed: number, count: number, m: number) {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const c = randomChunk(rng, 4, 16, 3, m);
    const b: ActivationBatch = {
      S: c.S,
      T: c.T,
      d: c.d,
      x: c.x,
      start: c.start,
      valid: c.valid,
      seqIndex: new Int32Array(c.S),
    };
    return { b, f: c.f, xhat: c.xhat };
  });
}

describe('evaluateHeldOut', () => {
  it('equals the accumulators run by hand, with and without the forward cache', async () => {
    const data = batches(3, 3, 10);
    let calls = 0;
    const forward = async (b: ActivationBatch) => {
      calls++;
      const k = data.findIndex((e) => e.b === b);
      return { f: data[k].f, xhat: data[k].xhat };
    };
    const heldOut = () => data.map((e) => e.b);
    const cached = await evaluateHeldOut(forward, heldOut, { d_sae: 10, clusterK: 6 });
    expect(calls).toBe(3);
    const twoPass = await evaluateHeldOut(forward, heldOut, { d_sae: 10, clusterK: 6, cacheBytes: 0 });
    expect(calls).toBe(6 + 3);
    expect(twoPass.clustering).toEqual(cached.clustering);
    expect(twoPass.metrics).toEqual(cached.metrics);
    const t = new TemporalAccumulator(10, 16);
    data.forEach((e) =>
      t.add({ S: 4, T: 16, d: 3, m: 10, x: e.b.x, xhat: e.xhat, f: e.f, start: e.b.start, valid: e.b.valid }),
    );
    expect(cached.metrics.tv_ratio).toBe(t.result().tv_ratio);
    expect(cached.metrics.autocorr).toBe(t.result().autocorr);
    expect(cached.clustering!.features.length).toBe(6);
    expect([...cached.clustering!.order].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    expect(cached.clustering!.heatByPosition.length).toBe(6);
    expect(cached.clustering!.heatByPosition[0].length).toBe(16);
    expect(cached.byPosition.tv_ratio.length).toBe(16);
    expect(cached.densityHist.counts.reduce((s, v) => s + v, 0)).toBe(10);
    expect(cached.metrics.mmcs).toBeUndefined();
  });

  it('reports mmcs and recovered when given the true dictionary', async () => {
    const data = batches(4, 1, 2);
    const r = await evaluateHeldOut(
      async () => ({ f: data[0].f, xhat: data[0].xhat }),
      () => [data[0].b],
      {
        d_sae: 2,
        clusterK: 0,
        groundTruth: {
          trueDict: Float32Array.from([1, 0, 0, 0, 1, 0]),
          F: 2,
          W_dec: Float32Array.from([0, 0.6, 0.8, 1, 0, 0]),
        },
      },
    );
    expect(r.metrics.mmcs).toBeCloseTo(0.8, 6);
    expect(r.metrics.recovered).toBe(0.5);
    expect(r.clustering).toBeNull();
  });

  it('refuses an empty held-out set with a clear message', async () => {
    await expect(
      evaluateHeldOut(
        async () => ({ f: new Float32Array(0), xhat: new Float32Array(0) }),
        () => [],
        { d_sae: 2 },
      ),
    ).rejects.toThrow(/held-out set has no valid tokens/);
  });
});

describe('evaluateHeldOut forward groups', () => {
  it('submits every forward of a group before awaiting any, and reads the decoder right after', async () => {
    const data = batches(6, 4, 3);
    const log: string[] = [];
    const forward = (b: ActivationBatch) => {
      const k = data.findIndex((e) => e.b === b);
      log.push(`fwd${k}`);
      return Promise.resolve().then(() => {
        log.push(`done${k}`);
        return { f: data[k].f, xhat: data[k].xhat };
      });
    };
    const opts = {
      d_sae: 3,
      clusterK: 0,
      groundTruth: {
        trueDict: new Float32Array(3),
        F: 1,
        W_dec: () => {
          log.push('W_dec');
          return Promise.resolve(new Float32Array(9).fill(1));
        },
      },
      onSubmit: (g: number) => log.push(`submit${g}`),
    };
    await evaluateHeldOut(forward, () => data.map((e) => e.b), opts);
    expect(log.slice(0, 6)).toEqual(['fwd0', 'fwd1', 'fwd2', 'fwd3', 'W_dec', 'submit0']);
    log.length = 0;
    // A group of ~one batch: forwards alternate with their completions.
    await evaluateHeldOut(forward, () => data.map((e) => e.b), { ...opts, groupBytes: 1 });
    expect(log.slice(0, 5)).toEqual(['fwd0', 'W_dec', 'submit0', 'done0', 'fwd1']);
  });
});

describe('evaluateHeldOut with batches in memory', () => {
  it('submits the first group before returning control (no await before it)', () => {
    const data = batches(7, 2, 3);
    let calls = 0;
    const p = evaluateHeldOut(
      (b) => {
        calls++;
        const k = data.findIndex((e) => e.b === b);
        return Promise.resolve({ f: data[k].f, xhat: data[k].xhat });
      },
      () => data.map((e) => e.b),
      { d_sae: 3, clusterK: 0 },
    );
    expect(calls).toBe(2);
    return p;
  });
});
