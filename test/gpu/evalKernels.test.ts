// Kernel parity of the held-out evaluation reductions (shaders/eval_*.wgsl via the trainer's evalForward)
// against their CPU twin evalSumsFromChunk / gatherTwin (src/analysis/evalPartials.ts), computed in float64
// from the same batch's f and x̂ read back with forward(). Shapes with partial workgroups everywhere
// (N = 24 rows, m = 70 features, d = 12), document starts and padding (gpuBatch), two dead features,
// a batch smaller than the trainer's, and the row-block split (chunks.ts).
// Tolerances: GPU sums are f32 sums of n terms (n = d, m or the batch's rows) of the same f32 inputs, so
// |gpu − cpu| ≤ n·2⁻²⁴·Σ|terms| in the worst case: n ≤ 70 gives ≤ 4.2e-6 relative; we allow rtol 2e-5
// plus a small atol for sums that cancel (Σ(x − x̄)², Σ|f − f'|). Counts (L0, ∩, ∪, firing by position,
// runs) must be exact, and the gathered traces are copies (exact).
import { describe, expect, it } from 'vitest';
import { evalSumsFromChunk, gatherTwin } from '../../src/analysis/evalPartials';
import type { ActivationBatch } from '../../src/data/types';
import type { GemmDesign } from '../../src/gpu/gemm';
import type { TrainConfig } from '../../src/sae/config';
import { initWeights } from '../../src/sae/init';
import { createTrainer, type GpuSaeTrainer } from '../../src/sae/trainer';
import type { EvalSums } from '../../src/sae/trainerApi';
import { getTestGpu } from '../helpers/dawn';
import { expectClose } from '../helpers/parity';
import { gpuBatch, gpuCfg } from './fixtures';

const DEAD = [5, 17];

async function trainerFor(cfg: TrainConfig, limit?: number, gemmDesign?: GemmDesign): Promise<GpuSaeTrainer> {
  const w = initWeights(cfg, gpuBatch(cfg, 900));
  // Two features that never fire: b_enc far below any pre-activation.
  for (const i of DEAD) w.b_enc[i] = -1e3;
  const gpu = await getTestGpu();
  return createTrainer(gpu, cfg, w, {
    limits: limit ? { maxStorageBufferBindingSize: limit } : undefined,
    gemmDesign,
  });
}

function half(b: ActivationBatch, S: number): ActivationBatch {
  const rows = S * b.T;
  return {
    ...b,
    S,
    x: b.x.slice(0, rows * b.d),
    start: b.start.slice(0, rows),
    valid: b.valid.slice(0, rows),
    seqIndex: b.seqIndex.slice(0, S),
  };
}

async function check(t: GpuSaeTrainer, batch: ActivationBatch, label: string) {
  const m = t.cfg.d_sae;
  const fwd = await t.forward(batch);
  const chunk = { ...batch, m, f: fwd.f, xhat: fwd.xhat };
  const want = evalSumsFromChunk(chunk);
  const ids = Int32Array.from([m - 1, 0, DEAD[0], 33, 34]);
  const got = await t.evalForward(batch, { gather: ids });
  const s = got.sums as EvalSums;
  expect(s.rows).toBe(batch.S * batch.T);
  expect([s.P, s.Q]).toEqual([want.P, want.Q]);
  const close = (name: keyof EvalSums, atol: number) =>
    expectClose(`${label} ${name}`, s[name] as Float32Array, want[name] as Float64Array, atol, 2e-5);
  close('rowRecon', 1e-5);
  close('xStats', 1e-4);
  close('featStats', 1e-6);
  close('autocorr', 1e-6);
  // rowFeat: counts exact, sums within tolerance.
  const counts = (a: ArrayLike<number>) => Array.from(a).filter((_, k) => [0, 4, 5].includes(k % 6));
  expect(counts(s.rowFeat), `${label} L0/∩/∪`).toEqual(counts(want.rowFeat));
  expectClose(`${label} rowFeat`, s.rowFeat, want.rowFeat, 1e-5, 2e-5);
  expect(Array.from(s.fireByPos), `${label} fireByPos`).toEqual(Array.from(want.fireByPos));
  expect(Array.from(s.runs), `${label} runs`).toEqual(Array.from(want.runs));
  for (const i of DEAD) expect(want.featStats[2 * i]).toBe(0);
  expect(Array.from(got.traces!), `${label} traces`).toEqual(Array.from(gatherTwin(chunk, ids)));
  // The gather alone reads back the traces only.
  const only = await t.evalForward(batch, { gather: ids, reduce: false });
  expect(only.sums).toBeUndefined();
  expect(Array.from(only.traces!)).toEqual(Array.from(got.traces!));
}

describe('evaluation reductions on the GPU = CPU twin', () => {
  for (const architecture of ['relu', 'topk', 'jumprelu'] as const)
    it(`${architecture}: whole and half batch, one row block and three`, async () => {
      // T = 8: the autocorrelation has Q = 7 bins, the firing counts P = 8 position bins.
      const cfg = gpuCfg({ architecture, d_sae: 70, k: 9 });
      const batch = gpuBatch(cfg, 901);
      // One sequence of f is 8×70×4 = 2240 bytes: a 4000-byte binding limit gives 3 row blocks.
      for (const limit of [undefined, 4000]) {
        const t = await trainerFor(cfg, limit);
        if (limit) expect(t.chunks.rowBlocks.length).toBe(3);
        await check(t, batch, `${architecture} limit ${limit ?? 'none'}`);
        await check(t, half(batch, 2), `${architecture} S=2 limit ${limit ?? 'none'}`);
        t.destroy();
      }
    });

  // The 'tiled' design is what real GPUs get: 256 invocations reduce each row together (one row per
  // workgroup) instead of SwiftShader's one invocation per row, 64 rows per workgroup.
  it('the real-GPU workgroup shape (tiled design): 256 invocations per row, m = 300 above it and d = 12 below', async () => {
    const cfg = gpuCfg({ d_sae: 300 });
    const t = await trainerFor(cfg, undefined, 'tiled');
    await check(t, gpuBatch(cfg, 905), 'tiled');
    await check(t, half(gpuBatch(cfg, 906), 1), 'tiled S=1');
    t.destroy();
  });

  it('a longer context: 16 autocorrelation bins, T = 40 not a multiple of any workgroup', async () => {
    const cfg = gpuCfg({ d_sae: 70, context_size: 40, seqs_per_batch: 2 });
    const t = await trainerFor(cfg);
    await check(t, gpuBatch(cfg, 902), 'T=40');
    t.destroy();
  });

  it('refuses a gather index outside the dictionary and a batch of another context size', async () => {
    const cfg = gpuCfg({ d_sae: 70 });
    const t = await trainerFor(cfg);
    await expect(t.evalForward(gpuBatch(cfg, 903), { gather: Int32Array.from([70]) })).rejects.toThrow(
      /gather feature 70 is outside 0\.\.69/,
    );
    const short = gpuBatch({ ...cfg, context_size: 4, seqs_per_batch: 2 }, 904);
    await expect(t.evalForward(short)).rejects.toThrow(/4 positions per sequence, the trainer 8/);
    t.destroy();
  });
});
