// BatchTopK kernels (shaders/batchtopk_hist, _decide, _ties, _cut, _apply, _infer, recorded by the
// trainer's stage builder passes/activation.ts) vs the CPU twin (src/sae/twins/batchTopk.ts, the
// reference's rule): exact f (selection copies values, so any difference is a selection error) over
// batches that reach every path: distinct values, many ties straddling the cut across rows, all entries
// tied, fewer positives than k·N, no positive entry, padding rows, values differing in the last bits,
// tiny values; d_sae not a multiple of the workgroup; the batch in one row block and split into three
// (the select spans blocks: one histogram, ties cut in flat order); both workgroup designs.
// θ (SAELens update_topk_threshold): θ ← (1 − lr)·θ + lr·(smallest selected f), unchanged when nothing
// is selected; float32 with one rounding of difference allowed (rtol 1e-6). Inference f = pre·H(pre − θ).
import { describe, expect, it } from 'vitest';
import { runBatchTopk } from '../../src/sae/gpu/batchTopkKernels';
import { batchTopkTwin } from '../../src/sae/twins/batchTopk';
import { Rng } from '../../src/data/rng';
import { getTestGpu } from '../helpers/dawn';

const N = 11,
  m = 37;

function batch(kind: string): { pre: Float32Array; valid: Uint8Array } {
  const rng = new Rng(kind.length * 7 + 1);
  const pre = new Float32Array(N * m);
  const valid = new Uint8Array(N).fill(1);
  valid[3] = valid[10] = 0;
  for (let q = 0; q < N * m; q++) {
    const i = q % m;
    pre[q] =
      kind === 'distinct'
        ? rng.normal()
        : kind === 'ties'
          ? ((q * 7) % 5) - 2 // small integers: ties at every value, across rows
          : kind === 'all tied'
            ? 0.5
            : kind === 'few positives'
              ? i === 3 || q % 53 === 0
                ? 1 + (q % 3)
                : -1
              : kind === 'none positive'
                ? -Math.abs(rng.normal()) - 1e-3
                : kind === 'last bits'
                  ? 1 + (q % 13) * 1.2e-7
                  : (q % 9) * 1e-30; // tiny
  }
  return { pre, valid };
}

const firstDiff = (a: Float32Array, b: Float32Array) => a.findIndex((v, q) => v !== b[q]);

describe('BatchTopK kernels = CPU twin', () => {
  const kinds = ['distinct', 'ties', 'all tied', 'few positives', 'none positive', 'last bits', 'tiny'];
  const layouts: [string, number[] | undefined, 'blocked' | 'tiled'][] = [
    ['one block, blocked', undefined, 'blocked'],
    ['blocks 4+5+2, blocked', [4, 5, 2], 'blocked'],
    ['blocks 4+5+2, tiled', [4, 5, 2], 'tiled'],
  ];
  for (const [name, blocks, design] of layouts)
    it(`every batch kind, k 1, 3, 20, 37; ${name}`, async () => {
      const { device } = await getTestGpu();
      for (const kind of kinds)
        for (const k of [1, 3, 20, 37]) {
          const { pre, valid } = batch(kind);
          const theta = 0.25;
          const gpu = await runBatchTopk(device, { pre, valid, N, m, k, theta, lr: 0.01, blocks, design });
          const tw = batchTopkTwin(pre, valid, N, m, k, theta, 0.01);
          const d = firstDiff(gpu.f, tw.f);
          expect(d, `${kind} k ${k}: first differing entry ${d} (gpu ${gpu.f[d]}, cpu ${tw.f[d]})`).toBe(-1);
          expect(
            Math.abs(gpu.theta - tw.theta),
            `${kind} k ${k} θ ${gpu.theta} vs ${tw.theta}`,
          ).toBeLessThanOrEqual(1e-6 * Math.abs(tw.theta));
          if (kind === 'none positive') expect(gpu.theta).toBe(Math.fround(theta));
          const di = firstDiff(gpu.inferF, tw.inferF);
          expect(di, `${kind} k ${k}: inference f differs at ${di}`).toBe(-1);
        }
    });

  it('θ hand-worked: (1 − lr)·θ + lr·v*, and exactly k·N_valid entries kept', async () => {
    const { device } = await getTestGpu();
    // 3 valid rows × 4 features, k = 2 → K = 6 of the 8 positives: 9 8 7 6 5 4 kept, v* = 4.
    const pre = Float32Array.from([9, -1, 3, 8, 7, 0, 2, -5, 6, 5, 4, 1, 100, 100, 100, 100]);
    const valid = [1, 1, 1, 0]; // the 100s are padding
    const r = await runBatchTopk(device, { pre, valid, N: 4, m: 4, k: 2, theta: 2, lr: 0.25 });
    expect(Array.from(r.f)).toEqual([9, 0, 0, 8, 7, 0, 0, 0, 6, 5, 4, 0, 0, 0, 0, 0]);
    expect(r.theta).toBe(0.75 * 2 + 0.25 * 4); // 2.5
    // Inference with θ = 2.5: every valid pre > 2.5.
    expect(Array.from(r.inferF)).toEqual([9, 0, 3, 8, 7, 0, 0, 0, 6, 5, 4, 0, 0, 0, 0, 0]);
  });
});
