// The random tiny models (test/fixtures/lm/randomModel.ts) have the canonical shapes (src/lm/types.ts)
// for both families, are reproducible from their seed, and tie W_U to W_E only when asked.
import { describe, expect, it } from 'vitest';
import { randomIds, randomModel } from '../fixtures/lm/randomModel';

describe('randomModel', () => {
  it('gpt2: LayerNorm biases, learned positions, gelu_new, tied W_U', () => {
    const m = randomModel({ family: 'gpt2', seed: 3, d_model: 12, n_heads: 3, d_mlp: 20, vocab_size: 11 });
    const { config: c, weights: w } = m;
    expect([c.n_kv_heads, c.head_dim, c.act]).toEqual([3, 4, 'gelu_new']);
    expect(w.W_pos!.length).toBe(c.n_ctx * 12);
    expect(w.W_U).toBe(w.W_E);
    const b = w.blocks[0];
    expect([b.W_Q.length, b.W_K.length, b.W_O.length, b.W_in.length, b.W_out.length]).toEqual([
      144, 144, 144, 240, 240,
    ]);
    expect([b.ln1_b!.length, b.b_Q!.length, b.b_in!.length, b.W_gate]).toEqual([12, 12, 20, null]);
  });

  it('llama: RMSNorm, GQA, SwiGLU, untied by default, either rope style', () => {
    const m = randomModel({ family: 'llama', seed: 3, rope_style: 'interleaved' });
    const { config: c, weights: w } = m;
    expect([c.n_heads, c.n_kv_heads, c.head_dim, c.act, c.rope_style]).toEqual([
      4,
      2,
      4,
      'silu',
      'interleaved',
    ]);
    expect(w.W_pos).toBeNull();
    expect(w.W_U).not.toBe(w.W_E);
    expect(w.W_U.length).toBe(c.vocab_size * c.d_model);
    const b = w.blocks[1];
    expect([b.W_Q.length, b.W_K.length, b.W_V.length, b.W_gate!.length]).toEqual([256, 128, 128, 640]);
    expect([b.ln1_b, b.b_Q, b.b_O, b.b_in, w.ln_final_b]).toEqual([null, null, null, null, null]);
    const t = randomModel({ family: 'llama', tied: true }).weights;
    expect(t.W_U).toBe(t.W_E);
  });

  it('is reproducible from its seed and differs across seeds', () => {
    const a = randomModel({ family: 'llama', seed: 9 }).weights.blocks[0].W_Q;
    const b = randomModel({ family: 'llama', seed: 9 }).weights.blocks[0].W_Q;
    const c = randomModel({ family: 'llama', seed: 10 }).weights.blocks[0].W_Q;
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const ids = randomIds(37, 2, 5);
    expect(ids.length).toBe(10);
    expect(ids.every((t) => t >= 0 && t < 37)).toBe(true);
  });
});
