// The bench's arithmetic and its output contract: FLOP counting by hand, flag parsing, which cases are
// skipped and why, and one real trainer_step line on a tiny case (our trainer and the tf.js peer on
// Dawn's adapter) with every field present and every number finite and consistent.
import { beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_BENCH_OPTIONS, parseBenchArgs, TRAINER_CASES } from '../../bench/cases';
import { gflopsPerSecond, stepFlops } from '../../bench/flops';
import { nodeGpu } from '../../bench/nodeGpu';
import { linearityLines, skipReason } from '../../bench/run';
import { registerTfjsGradients } from '../../bench/tfjsNode';
import { runTrainerCase, type BenchEnv } from '../../bench/trainerCase';
import { adapterName, requestGpu } from '../../src/gpu/device';

describe('FLOP model', () => {
  it('counts the five GEMMs of a step, 2 FLOP per multiply-add', () => {
    const [N, d, m] = [1024, 64, 512];
    // [rows, inner, cols] of: encoder, decoder, ∂W_dec = fᵀ·g, ∂f = g·W_decᵀ, ∂W_enc = (x − b_dec)ᵀ·g_pre
    const gemms = [
      [N, d, m],
      [N, m, d],
      [m, N, d],
      [N, d, m],
      [d, N, m],
    ];
    const byHand = gemms.reduce((s, [r, k, c]) => s + 2 * r * k * c, 0);
    expect(byHand).toBe(335_544_320);
    expect(stepFlops(d, m, N)).toBe(byHand);
    // 0.3355 GFLOP in 100 ms is 3.355 GFLOP/s.
    expect(gflopsPerSecond(d, m, N, 100)).toBeCloseTo(3.3554432, 6);
  });
});

describe('flags', () => {
  it('parses every flag and names the bad ones', () => {
    expect(parseBenchArgs([])).toEqual(DEFAULT_BENCH_OPTIONS);
    expect(
      parseBenchArgs([
        '--cases',
        'all',
        '--steps=5',
        '--repeats',
        '3',
        '--warmup',
        '0',
        '--no-peer',
        '--no-extras',
      ]),
    ).toEqual({
      cases: 'all',
      steps: 5,
      repeats: 3,
      warmup: 0,
      peer: false,
      extras: false,
    });
    expect(() => parseBenchArgs(['--cases', 'huge'])).toThrow(/--cases must be small or all/);
    expect(() => parseBenchArgs(['--steps', '0'])).toThrow(/--steps needs an integer ≥ 1/);
    expect(() => parseBenchArgs(['--fast'])).toThrow(/unknown flag --fast/);
  });

  it('skips the big cases on SwiftShader unless --cases all, and anything that does not fit', () => {
    const roomy = { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 31 };
    const small = TRAINER_CASES.map((c) => skipReason(c, { cases: 'small' }, true, roomy));
    expect(small[0]).toBeNull();
    expect(small[1]).toMatch(/SwiftShader.*43 GFLOP per step.*--cases all/);
    expect(small[2]).toMatch(/258 GFLOP/);
    // --max-gflop 50 keeps the 43-GFLOP mid-size case and skips the 258-GFLOP one.
    expect(
      TRAINER_CASES.map((c) => skipReason(c, { cases: 'all', maxGflop: 50 }, true, roomy) !== null),
    ).toEqual([false, false, true]);
    expect(TRAINER_CASES.map((c) => skipReason(c, { cases: 'all' }, true, roomy))).toEqual([
      null,
      null,
      null,
    ]);
    expect(TRAINER_CASES.map((c) => skipReason(c, { cases: 'small' }, false, roomy))).toEqual([
      null,
      null,
      null,
    ]);
    // The trainer splits big matrices across bindings, so a 32 MiB binding still fits the big case; a
    // 1 MiB one cannot hold one sequence of feature activations (128 × 16384 floats = 8 MiB).
    const limit = (bytes: number) => ({ maxStorageBufferBindingSize: bytes, maxBufferSize: 2 ** 31 });
    expect(skipReason(TRAINER_CASES[2], { cases: 'all' }, false, limit(32 * 2 ** 20))).toBeNull();
    expect(skipReason(TRAINER_CASES[2], { cases: 'all' }, false, limit(2 ** 20))).toMatch(
      /does not fit the adapter: .*8388608 bytes.*maxStorageBufferBindingSize/,
    );
  });
});

describe('linearity lines', () => {
  it('are time ratios against the base case, per engine, null where a time is missing', () => {
    const line = (tokens: number, d_sae: number, ms: number | null, peer: number | null) => ({
      command: 'c',
      adapter: 'a',
      d: 64,
      d_sae,
      tokens,
      ms_per_step: ms,
      peer_ms_per_step: peer,
    });
    const [ours, tfjs] = linearityLines(
      line(1024, 512, 100, 400),
      line(2048, 512, 190, 800),
      line(1024, 1024, 250, null),
      true,
    );
    expect(ours).toMatchObject({
      bench: 'linearity',
      engine: 'temposae',
      base: { d: 64, d_sae: 512, tokens: 1024, ms_per_step: 100 },
      tokens_x2: { tokens: 2048, ms_per_step: 190, ratio: 1.9 },
      d_sae_x2: { d_sae: 1024, ms_per_step: 250, ratio: 2.5 },
      ideal_ratio: 2,
    });
    expect(tfjs).toMatchObject({ engine: 'tfjs-webgpu', tokens_x2: { ratio: 2 }, d_sae_x2: { ratio: null } });
    expect(linearityLines(line(1, 1, 1, 1), line(1, 1, 1, 1), line(1, 1, 1, 1), false)).toHaveLength(1);
  });
});

describe('trainer_step line on a tiny case', () => {
  let env: BenchEnv;
  beforeAll(async () => {
    const gpu = await nodeGpu({ swiftshader: !process.env.VK_ICD_FILENAMES });
    const ctx = await requestGpu(gpu, 'bench-test');
    await registerTfjsGradients();
    env = { gpu, ctx, adapter: adapterName(ctx.adapter), command: 'test' };
  }, 120_000);

  it('has every field, finite numbers, and numbers that agree with each other', async () => {
    const c = { d: 16, d_sae: 64, tokens: 64, S: 2, T: 32 };
    const line = await runTrainerCase(env, c, { warmup: 1, steps: 1, repeats: 2, peer: true });
    expect(line.errors).toBeUndefined();
    expect(line).toMatchObject({
      bench: 'trainer_step',
      command: 'test',
      adapter: env.adapter,
      arch: 'relu',
      d: 16,
      d_sae: 64,
      tokens: 64,
      peer: 'tfjs-webgpu',
      same_adapter: true,
    });
    for (const k of [
      'gflop_per_step',
      'ms_per_step',
      'gflops',
      'tokens_per_s',
      'gpu_bytes',
      'peer_ms_per_step',
      'peer_gflops',
      'peer_gpu_bytes',
      'speedup',
    ]) {
      expect(Number.isFinite(line[k]), `${k} = ${line[k]}`).toBe(true);
      expect(line[k] as number, k).toBeGreaterThan(0);
    }
    const n = (k: string) => line[k] as number;
    // ms_per_step is the best of the windows, each of which is finite.
    for (const k of ['ms_windows', 'peer_ms_windows']) {
      const w = line[k] as number[];
      expect(w).toHaveLength(2);
      expect(w.every(Number.isFinite)).toBe(true);
    }
    expect(n('ms_per_step')).toBe(Math.min(...(line.ms_windows as number[])));
    expect(n('peer_ms_per_step')).toBe(Math.min(...(line.peer_ms_windows as number[])));
    expect(n('gflop_per_step')).toBeCloseTo(stepFlops(16, 64, 64) / 1e9, 6);
    expect(n('gflops')).toBeCloseTo(n('gflop_per_step') / (n('ms_per_step') / 1000), 1);
    // speedup is printed to 3 significant digits (bench/trainerCase.ts round), so compare relatively: 4.6647
    // prints as 4.67, and a fixed 2-decimal closeness failed whenever the rounding crossed 0.005.
    const speedup = n('peer_ms_per_step') / n('ms_per_step');
    expect(Math.abs(n('speedup') - speedup)).toBeLessThanOrEqual(0.005 * speedup);
    expect(n('tokens_per_s')).toBeCloseTo(64 / (n('ms_per_step') / 1000), -1);
    // Our trainer allocates at least its parameters and Adam moments: 3 × (2·d·m + m + d) floats.
    expect(n('gpu_bytes')).toBeGreaterThanOrEqual(3 * (2 * 16 * 64 + 64 + 16) * 4);
    // Both engines ran the same training: same losses after the same steps.
    expect(n('loss_rel_diff')).toBeLessThan(1e-4);
    expect(JSON.parse(JSON.stringify(line))).toEqual(line);
  }, 600_000);
});
