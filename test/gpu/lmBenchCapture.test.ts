// bench/capture.ts on a micro case: the capture line has its fields, its memory is the forward's plan,
// and it is compared with the trainer_step line of the same width and tokens (and only that one).
import { describe, expect, it } from 'vitest';
import { runCaptureBench, type CaptureCase } from '../../bench/capture';
import { planLmMemory } from '../../src/lm/gpu/plan';
import { randomModel } from '../fixtures/lm/randomModel';

describe('bench capture lines', () => {
  it('a micro GPT-2: tokens/s, GPU bytes = the plan, the matching trainer line', async () => {
    const micro: CaptureCase = {
      name: 'micro',
      model: { family: 'gpt2', n_layers: 1, d_model: 16, n_heads: 2, d_mlp: 32, vocab_size: 37, n_ctx: 16 },
      tokens: 64,
      d_sae: 128,
    };
    const trainer = [
      { bench: 'trainer_step', d: 16, d_sae: 64, tokens: 64, tokens_per_s: 1, gpu_bytes: 1 }, // other width
      { bench: 'trainer_step', d: 16, d_sae: 128, tokens: 64, tokens_per_s: 1000, gpu_bytes: 12345 },
    ];
    const lines: Record<string, unknown>[] = [];
    await runCaptureBench(
      { cases: 'small', warmup: 0, steps: 1, repeats: 1 },
      'test',
      trainer,
      (l) => lines.push(l),
      [micro],
    );
    expect(lines.map((l) => [l.bench, l.weights])).toEqual([
      ['capture', 'f32'],
      ['capture', 'f16'],
    ]);
    const [f32, f16] = lines;
    const config = randomModel(micro.model).config;
    expect(f32.gpu_bytes).toBe(
      planLmMemory(
        config,
        4,
        16,
        { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 30 },
        { captures: 1 },
      ).bytes,
    );
    expect(f16.gpu_bytes as number).toBeLessThan(f32.gpu_bytes as number);
    for (const l of lines) {
      expect([l.S, l.T, l.tokens, l.hook]).toEqual([4, 16, 64, 'blocks.0.hook_resid_post']);
      expect(l.capture_tokens_per_s as number).toBeGreaterThan(0);
      expect(l.forward_tokens_per_s as number).toBeGreaterThan(0);
      expect([l.trainer_tokens_per_s, l.trainer_gpu_bytes]).toEqual([1000, 12345]);
      // The ratio is printed to 3 significant digits (bench/capture.ts round), so compare relatively:
      // 15.111 prints as 15.1, off by 0.07 %; a fixed 2-decimal closeness fails for ratios ≥ 10.
      const ratio = (l.capture_tokens_per_s as number) / 1000;
      expect(Math.abs((l.capture_over_trainer as number) - ratio)).toBeLessThanOrEqual(0.005 * ratio);
    }
  });
});
