// BatchTopK selection kernels (shaders/batchtopk_hist, _decide, _ties, _cut, _apply) vs the CPU twin
// (src/sae/twins/batchTopk.ts, the reference's rule): exact f (selection copies values, so any
// difference is a selection error) over batches that reach every path: distinct values, many ties
// straddling the cut across rows, all entries tied, fewer positives than k·N, no positive entry, padding
// rows, values differing in the last bits, tiny values; d_sae not a multiple of the workgroup, WG 4 and
// 64. θ: the first update takes the smallest selected value, then the EMA (float32: rtol 1e-6).
import { describe, expect, it } from 'vitest';
import { runBatchTopk } from '../../src/sae/gpu/methodKernels';
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

describe('BatchTopK kernels = CPU twin', () => {
  const kinds = ['distinct', 'ties', 'all tied', 'few positives', 'none positive', 'last bits', 'tiny'];
  for (const wg of [4, 64])
    it(`every batch kind, k 1, 3, 20, 37; workgroup ${wg}`, async () => {
      const { device } = await getTestGpu();
      for (const kind of kinds)
        for (const k of [1, 3, 20, 37]) {
          const { pre, valid } = batch(kind);
          const gpu = await runBatchTopk(
            device,
            { pre, valid, N, m, k, theta: -1, update: true, beta: 0.999 },
            wg,
          );
          const tw = batchTopkTwin(pre, valid, N, m, k, -1, true, 0.999);
          const diff = gpu.f.findIndex((v, q) => v !== tw.f[q]);
          expect(
            diff,
            `${kind} k ${k}: first differing entry ${diff} (gpu ${gpu.f[diff]}, cpu ${tw.f[diff]})`,
          ).toBe(-1);
          expect(gpu.theta, `${kind} k ${k} θ`).toBe(Math.fround(tw.theta));
        }
    });

  it('θ: EMA after the first update, unchanged without update', async () => {
    const { device } = await getTestGpu();
    const { pre, valid } = batch('distinct');
    const run = (theta: number, update: boolean) =>
      runBatchTopk(device, { pre, valid, N, m, k: 3, theta, update, beta: 0.9 });
    const tw = batchTopkTwin(pre, valid, N, m, 3, 0.25, true, 0.9);
    expect((await run(0.25, true)).theta).toBeCloseTo(tw.theta, 6);
    expect((await run(0.25, false)).theta).toBe(0.25);
    // The selection takes exactly k·N_valid = 27 entries.
    expect(tw.f.filter((v) => v !== 0).length).toBe(27);
  });
});
