// The GPU evaluation path's host half: the accumulators fed with per-batch sums (addSums, from the CPU
// twin evalSumsFromChunk of the kernels) give the same metrics as the accumulators fed with f and x̂
// (add), and evaluateHeldOut with an evalForward gives the same EvalResult as with a forward.
import { describe, expect, it } from 'vitest';
import type { EvalChunk } from '../../../src/analysis/chunk';
import { evaluateHeldOut } from '../../../src/analysis/evaluate';
import { evalSumsFromChunk, gatherTwin } from '../../../src/analysis/evalPartials';
import { ReconAccumulator } from '../../../src/analysis/reconstruction';
import { SparsityAccumulator } from '../../../src/analysis/sparsity';
import { TemporalAccumulator } from '../../../src/analysis/temporal';
import { Rng } from '../../../src/data/rng';
import type { ActivationBatch } from '../../../src/data/types';
import type { EvalForwardOptions, EvalPartials } from '../../../src/sae/trainerApi';
import { chunkOf, randomChunk } from './helpers';

/** Random chunks with two dead features (0 everywhere) and one negative-valued feature. */
function chunks(seed: number, count: number, S: number, T: number, m: number): EvalChunk[] {
  const rng = new Rng(seed);
  return Array.from({ length: count }, () => {
    const c = randomChunk(rng, S, T, 5, m);
    for (let n = 0; n < S * T; n++) {
      c.f[n * m + 1] = 0;
      c.f[n * m + m - 1] = 0;
      c.f[n * m + 2] = -c.f[n * m + 2];
    }
    return c;
  });
}

/** The batch a chunk's forward pass was of. */
const batchOf = ({ S, T, d, x, start, valid }: EvalChunk): ActivationBatch => ({
  ...{ S, T, d, x, start, valid },
  seqIndex: new Int32Array(S),
});

function both(cs: EvalChunk[]) {
  const { T, d, m } = cs[0];
  const a = [
    new ReconAccumulator(d, T),
    new SparsityAccumulator(m, T),
    new TemporalAccumulator(m, T),
  ] as const;
  const b = [
    new ReconAccumulator(d, T),
    new SparsityAccumulator(m, T),
    new TemporalAccumulator(m, T),
  ] as const;
  for (const c of cs) {
    a.forEach((acc) => acc.add(c));
    const s = evalSumsFromChunk(c);
    b.forEach((acc) => acc.addSums(s, c));
  }
  return { a, b };
}

const close = (x: number, y: number) =>
  (Number.isNaN(x) && Number.isNaN(y)) || Math.abs(x - y) <= 1e-12 + 1e-9 * Math.abs(y);

function expectAllClose(got: Record<string, unknown>, want: Record<string, unknown>, path = '') {
  for (const [k, v] of Object.entries(want)) {
    const g = got[k];
    if (typeof v === 'number') expect(close(g as number, v), `${path}${k}: ${String(g)} vs ${v}`).toBe(true);
    else if (ArrayBuffer.isView(v) || Array.isArray(v))
      Array.from(v as ArrayLike<unknown>).forEach((e, i) =>
        typeof e === 'number'
          ? expect(close((g as number[])[i], e), `${path}${k}[${i}]: ${(g as number[])[i]} vs ${e}`).toBe(
              true,
            )
          : expectAllClose(
              (g as Record<string, unknown>[])[i],
              e as Record<string, unknown>,
              `${path}${k}[${i}].`,
            ),
      );
    else if (v && typeof v === 'object')
      expectAllClose(g as Record<string, unknown>, v as Record<string, unknown>, `${path}${k}.`);
    else expect(g, `${path}${k}`).toEqual(v);
  }
}

describe('accumulators from evaluation sums (the GPU path) = from f and x̂', () => {
  for (const [S, T, m] of [
    [4, 16, 10],
    [3, 40, 23], // several autocorrelation bins (Q = 16)
    [2, 1, 7], // no pairs at all
  ] as const)
    it(`S=${S} T=${T} m=${m}`, () => {
      const { a, b } = both(chunks(S * 100 + T, 3, S, T, m));
      expectAllClose({ ...b[0].result() }, { ...a[0].result() });
      expectAllClose({ ...b[0].byPosition() }, { ...a[0].byPosition() });
      expectAllClose({ ...b[1].result() }, { ...a[1].result() });
      expectAllClose(
        { l0: b[1].l0ByPosition(), v: b[1].variance(), d: b[1].density() },
        {
          l0: a[1].l0ByPosition(),
          v: a[1].variance(),
          d: a[1].density(),
        },
      );
      expect(b[1].fireByPos).toEqual(a[1].fireByPos);
      expectAllClose({ ...b[2].result() }, { ...a[2].result() });
      expectAllClose({ ...b[2].byPosition() }, { ...a[2].byPosition() });
    });

  it('hand-worked runs: a run broken by a document start and by padding', () => {
    // One feature, T = 6: on at t = 0,1 | doc start at 2 (on) ,3 | pad at 4 | on at 5.
    const c = chunkOf({
      S: 1,
      T: 6,
      f: [[1], [2], [1], [1], [1], [3]],
      start: [1, 0, 1, 0, 0, 0],
      valid: [1, 1, 1, 1, 0, 1],
    });
    const s = evalSumsFromChunk(c);
    // Runs start at 0 (length 2), 2 (length 2), 5 (length 1).
    expect(Array.from(s.runs)).toEqual([1, 0, 1, 0, 0, 1, 2, 0, 2, 0, 0, 1]);
    // Valid pairs: (0,1) and (2,3) only; rowFeat of t = 1: Σ|Δ| = 1, Σ|f| = 2, ∩ = 1, ∪ = 1.
    expect(Array.from(s.rowFeat.slice(6, 12))).toEqual([1, 2, 1, 2, 1, 1]);
    expect(Array.from(s.featStats)).toEqual([8, 16]);
  });
});

describe('evaluateHeldOut with evalForward', () => {
  it('gives the same EvalResult as the forward path (metrics, by position, features, clustering)', async () => {
    const cs = chunks(7, 4, 3, 12, 14);
    const data = cs.map((c) => ({
      c,
      b: batchOf(c),
    }));
    const find = (b: ActivationBatch) => data.find((e) => e.b === b)!.c;
    const forward = async (b: ActivationBatch) => ({ f: find(b).f, xhat: find(b).xhat });
    const gathered: number[] = [];
    const evalForward = async (b: ActivationBatch, o: EvalForwardOptions = {}): Promise<EvalPartials> => {
      const c = find(b);
      if (o.gather) gathered.push(o.gather.length);
      return {
        sums: o.reduce === false ? undefined : evalSumsFromChunk(c),
        traces: o.gather ? gatherTwin(c, o.gather) : undefined,
      };
    };
    const heldOut = () => data.map((e) => e.b);
    const opts = { d_sae: 14, clusterK: 6, maxClusterTokens: 50 };
    const cpu = await evaluateHeldOut(forward, heldOut, opts);
    const gpu = await evaluateHeldOut(forward, heldOut, { ...opts, evalForward });
    // All 14 features of every batch for the SPEC §11 metrics (within their token budget), with the
    // reductions; then the clustering: 50 traced tokens need 2 of the 4 batches (≤ 36 valid tokens each).
    expect(gathered).toEqual([14, 14, 14, 14, 6, 6]);
    expectAllClose(gpu as unknown as Record<string, unknown>, cpu as unknown as Record<string, unknown>);
    expect(gpu.clustering!.features).toEqual(cpu.clustering!.features);
    expect(gpu.clustering!.tokens).toBe(50);
  });

  for (const budget of [4, 2])
    it(`keeps f on the GPU for the traces while it fits (${budget} of 4 batches), and releases it`, async () => {
      const cs = chunks(8, 4, 3, 12, 14);
      const batches = cs.map(batchOf);
      const find = (b: ActivationBatch) => cs[batches.indexOf(b)];
      let live = 0,
        released = 0,
        keptGathers = 0,
        secondPass = 0;
      const evalForward = async (b: ActivationBatch, o: EvalForwardOptions = {}): Promise<EvalPartials> => {
        const c = find(b);
        if (o.gather) secondPass++;
        const r: EvalPartials = {
          sums: o.reduce === false ? undefined : evalSumsFromChunk(c),
          traces: o.gather ? gatherTwin(c, o.gather) : undefined,
        };
        if (o.keep && live < budget) {
          live++;
          let on = true;
          r.kept = {
            gather: async (ids) => {
              keptGathers++;
              return gatherTwin(c, ids);
            },
            release: () => {
              if (on) [on, live, released] = [false, live - 1, released + 1];
            },
          };
        }
        return r;
      };
      const forward = async (b: ActivationBatch) => ({ f: find(b).f, xhat: find(b).xhat });
      // One batch per group; no SPEC §11 gather (counted here as a second pass; evaluateLiterature.test.ts).
      const opts = { d_sae: 14, clusterK: 6, maxClusterTokens: 50, groupBytes: 1, literatureTokens: 0 };
      const cpu = await evaluateHeldOut(forward, () => batches, opts);
      const gpu = await evaluateHeldOut(forward, () => batches, { ...opts, evalForward });
      expectAllClose(gpu as unknown as Record<string, unknown>, cpu as unknown as Record<string, unknown>);
      expect(live).toBe(0);
      // All kept: the 2 batches the 50 traced tokens need are gathered from kept f, no second pass.
      // Out of room after 2: those 2 are released at once and the traces come from a second pass.
      expect([keptGathers, secondPass, released]).toEqual(budget === 4 ? [2, 0, 4] : [0, 2, 2]);
    });
});
