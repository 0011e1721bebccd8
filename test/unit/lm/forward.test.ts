// The float64 language-model reference (src/lm/reference): hand-worked values for each piece, a 1-layer
// GPT-2 worked by hand, and identities that must hold for any weights (rope pairings differ by a row
// permutation, grouped-query attention equals duplicated K/V heads, causality, patching, centring).
import { describe, expect, it } from 'vitest';
import { argmax, centerResidual, forwardReference, generateGreedy } from '../../../src/lm/reference/forward';
import { applyRope, geluNew, layerNorm, rmsNorm, silu } from '../../../src/lm/reference/ops';
import { HOOK_POINTS, type LanguageModel } from '../../../src/lm/types';
import { randomIds, randomModel } from '../../fixtures/lm/randomModel';

const close = (a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-12) => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  expect(worst).toBeLessThanOrEqual(tol);
};
const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};
const f32 = (a: number[]) => Float32Array.from(a);

describe('pieces', () => {
  it('gelu_new and silu match their closed forms (PyTorch gelu(approximate="tanh") values)', () => {
    expect(geluNew(1)).toBeCloseTo(0.8411919906082768, 14);
    expect(geluNew(-1)).toBeCloseTo(-0.15880800939172324, 14);
    expect(geluNew(0)).toBe(0);
    expect(silu(1)).toBeCloseTo(0.7310585786300049, 14);
    expect(silu(-2)).toBeCloseTo(-2 / (1 + Math.exp(2)), 14);
  });

  it('LayerNorm and RMSNorm of [1, 2, 3, 4]', () => {
    const x = Float64Array.from([1, 2, 3, 4]);
    // mean 2.5, biased variance 1.25
    const s = Math.sqrt(1.25);
    close(layerNorm(x, f32([1, 1, 1, 1]), null, 1, 4, 0), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s]);
    // weight and bias, eps: (x − μ)/√(σ² + ε)·w + b
    const ln = layerNorm(x, f32([2, 1, 1, 1]), f32([0, 0, 0, 0.5]), 1, 4, 0.75);
    close(ln, [(-1.5 / Math.sqrt(2)) * 2, -0.5 / Math.sqrt(2), 0.5 / Math.sqrt(2), 1.5 / Math.sqrt(2) + 0.5]);
    // mean square 7.5
    const r = Math.sqrt(7.5);
    close(rmsNorm(x, f32([1, 1, 1, 0.5]), 1, 4, 0), [1 / r, 2 / r, 3 / r, 2 / r]);
    close(
      rmsNorm(x, f32([1, 1, 1, 1]), 1, 4, 0.5),
      [1, 2, 3, 4].map((v) => v / Math.sqrt(8)),
    );
  });

  it('rope pairs (i, i + hd/2) for half and (2i, 2i+1) for interleaved, frequency θ^(−2j/hd)', () => {
    // head_dim 4, θ = 10000: pair 0 has frequency 1, pair 1 has 10000^(−1/2) = 0.01. Position 1.
    const e = (i: number) => Float64Array.from([0, 1, 2, 3], (k) => (k === i ? 1 : 0));
    let v = e(0);
    applyRope(v, 0, 1, 4, 1, 10000, 'half');
    close(v, [Math.cos(1), 0, Math.sin(1), 0]);
    v = e(3);
    applyRope(v, 0, 1, 4, 1, 10000, 'half');
    close(v, [0, -Math.sin(0.01), 0, Math.cos(0.01)]);
    v = e(0);
    applyRope(v, 0, 1, 4, 1, 10000, 'interleaved');
    close(v, [Math.cos(1), Math.sin(1), 0, 0]);
    v = e(2);
    applyRope(v, 0, 1, 4, 3, 10000, 'interleaved');
    close(v, [0, 0, Math.cos(0.03), Math.sin(0.03)]);
    // Position 0 is the identity; a second head at an offset is rotated by itself.
    v = Float64Array.from([9, 1, 2, 3, 4, 5, 6, 7, 8]);
    applyRope(v, 1, 2, 4, 0, 10000, 'half');
    close(v, [9, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('argmax returns the first of equal maxima (llama2.c sample_argmax)', () => {
    expect(argmax([1, 3, 3, 2])).toBe(1);
    expect(argmax([0, 5, 1, 7, 7], 2, 3)).toBe(1);
  });
});

/**
 * A 1-layer GPT-2 small enough to work by hand: d 2, one head of size 2, vocab 2, eps 0, so every
 * LayerNorm of a row [a, b] is [−1, 1] when b > a and [1, −1] when a > b.
 */
function handGpt2(): LanguageModel {
  return {
    config: {
      family: 'gpt2',
      source: 'hand-worked',
      n_layers: 1,
      d_model: 2,
      n_heads: 1,
      n_kv_heads: 1,
      head_dim: 2,
      d_mlp: 1,
      vocab_size: 2,
      n_ctx: 2,
      norm_eps: 0,
      act: 'gelu_new',
      rope_theta: 10000,
      rope_style: 'half',
      bos_token_id: null,
      eos_token_id: null,
      pad_token_id: null,
    },
    weights: {
      W_E: f32([0, 2, 3, 1]),
      W_pos: f32([0, 0, 1, 1]),
      blocks: [
        {
          ln1_w: f32([1, 1]),
          ln1_b: f32([0, 0]),
          W_Q: f32([1, 0, 0, 1]),
          W_K: f32([1, 0, 0, 1]),
          W_V: f32([1, 0, 0, 2]),
          b_Q: f32([0, 0]),
          b_K: f32([0, 0]),
          b_V: f32([0.5, 0]),
          W_O: f32([1, 0, 0, 1]),
          b_O: f32([0, 0.25]),
          ln2_w: f32([1, 1]),
          ln2_b: f32([0, 0]),
          W_in: f32([1, 0]),
          b_in: f32([0]),
          W_gate: null,
          W_out: f32([1, -1]),
          b_out: f32([0, 0]),
        },
      ],
      ln_final_w: f32([1, 1]),
      ln_final_b: f32([0, 0]),
      W_U: f32([0, 2, 3, 1]),
    },
  };
}

describe('a 1-layer GPT-2 worked by hand', () => {
  it('gives the hand-computed hooks and logits for ids [0, 1]', () => {
    const m = handGpt2();
    const names = HOOK_POINTS.map((p) => `blocks.0.${p}`);
    const { logits, hooks } = forwardReference(m, Int32Array.from([0, 1]), 1, 2, { capture: names });
    // x0 = W_E[0] + W_pos[0] = [0, 2];  x1 = W_E[1] + W_pos[1] = [4, 2]
    close(hooks.get('blocks.0.hook_resid_pre')!, [0, 2, 4, 2]);
    // ln_1: h0 = [−1, 1], h1 = [1, −1]; q = k = h; v = h·diag(1, 2) + [0.5, 0] → v0 = [−0.5, 2], v1 = [1.5, −2]
    // t = 0 attends only to itself. t = 1: scores (q1·k0, q1·k1)/√2 = (−2, 2)/√2.
    const p1 = 1 / (1 + Math.exp(-4 / Math.SQRT2));
    const p0 = 1 - p1;
    const z1 = [p0 * -0.5 + p1 * 1.5, p0 * 2 + p1 * -2];
    const attn = [-0.5, 2 + 0.25, z1[0], z1[1] + 0.25];
    close(hooks.get('blocks.0.hook_attn_out')!, attn);
    const mid = [0 + attn[0], 2 + attn[1], 4 + attn[2], 2 + attn[3]];
    close(hooks.get('blocks.0.hook_resid_mid')!, mid);
    // ln_2: mid0 = [−0.5, 4.25] → [−1, 1]; mid1 ≈ [5.39, 0.47] → [1, −1]. up = h·[1, 0]ᵀ = ∓1.
    const g0 = geluNew(-1);
    const g1 = geluNew(1);
    close(hooks.get('blocks.0.hook_mlp_out')!, [g0, -g0, g1, -g1]);
    close(hooks.get('blocks.0.hook_resid_post')!, [mid[0] + g0, mid[1] - g0, mid[2] + g1, mid[3] - g1]);
    // ln_f: post0 → [−1, 1], post1 → [1, −1]; logits = h·W_Eᵀ with rows [0, 2], [3, 1]
    close(logits, [2, -2, -2, 2]);
  });

  it('rejects ids outside the vocabulary, T over the context, and unknown hooks', () => {
    const m = handGpt2();
    expect(() => forwardReference(m, Int32Array.from([0, 2]), 1, 2)).toThrow(/outside the vocabulary/);
    expect(() => forwardReference(m, Int32Array.from([0, 1, 0]), 1, 3)).toThrow(/context 2/);
    expect(() =>
      forwardReference(m, Int32Array.from([0, 1]), 1, 2, { capture: ['blocks.1.hook_resid_pre'] }),
    ).toThrow(/blocks 0–0/);
    expect(() =>
      forwardReference(m, Int32Array.from([0, 1]), 1, 2, {
        patch: { hook: 'blocks.0.hook_attn_out', values: new Float32Array(3) },
      }),
    ).toThrow(/S·T·d = 4/);
    const bad = handGpt2();
    bad.weights.blocks[0].W_V = f32([1, 0, 0]);
    expect(() => forwardReference(bad, Int32Array.from([0, 1]), 1, 2)).toThrow(
      /blocks\.0\.W_V has 3 values, expected 4/,
    );
  });
});

describe('a 1-layer Llama worked by hand', () => {
  it('RMSNorm, rotary at position 1, SwiGLU and untied unembedding for ids [0, 1]', () => {
    const I = f32([1, 0, 0, 1]);
    const m: LanguageModel = {
      config: {
        ...handGpt2().config,
        family: 'llama',
        act: 'silu',
        rope_style: 'interleaved',
        bos_token_id: 1,
      },
      weights: {
        W_E: f32([3, 4, 1, 0]),
        W_pos: null,
        blocks: [
          {
            ln1_w: f32([1, 1]),
            ln1_b: null,
            W_Q: I,
            W_K: I,
            W_V: I,
            b_Q: null,
            b_K: null,
            b_V: null,
            W_O: I,
            b_O: null,
            ln2_w: f32([1, 1]),
            ln2_b: null,
            W_in: f32([1, 0]),
            b_in: null,
            W_gate: f32([1, 1]),
            W_out: f32([1, 2]),
            b_out: null,
          },
        ],
        ln_final_w: f32([1, 1]),
        ln_final_b: null,
        W_U: f32([1, 0, 0, 1]),
      },
    };
    const rms = (v: number[]) => {
      const r = Math.sqrt((v[0] ** 2 + v[1] ** 2) / 2);
      return [v[0] / r, v[1] / r];
    };
    const names = ['blocks.0.hook_attn_out', 'blocks.0.hook_mlp_out', 'blocks.0.hook_resid_post'];
    const { logits, hooks } = forwardReference(m, Int32Array.from([0, 1]), 1, 2, { capture: names });
    const x = [
      [3, 4],
      [1, 0],
    ];
    const h = x.map(rms); // h0 = [3, 4]/√12.5, h1 = [√2, 0]
    // Position 0 is not rotated; position 1 turns the single pair (frequency 1) by 1 radian.
    const k1 = [h[1][0] * Math.cos(1) - h[1][1] * Math.sin(1), h[1][1] * Math.cos(1) + h[1][0] * Math.sin(1)];
    const s0 = (k1[0] * h[0][0] + k1[1] * h[0][1]) / Math.SQRT2;
    const s1 = (k1[0] * k1[0] + k1[1] * k1[1]) / Math.SQRT2;
    const p0 = Math.exp(s0) / (Math.exp(s0) + Math.exp(s1));
    const p1 = 1 - p0;
    const attn = [h[0], [p0 * h[0][0] + p1 * h[1][0], p0 * h[0][1] + p1 * h[1][1]]];
    close(hooks.get('blocks.0.hook_attn_out')!, attn.flat());
    const mid = [0, 1].map((t) => [x[t][0] + attn[t][0], x[t][1] + attn[t][1]]);
    const mlp = mid.map((v) => {
      const g = rms(v);
      const a = silu(g[0] + g[1]) * g[0];
      return [a, 2 * a];
    });
    close(hooks.get('blocks.0.hook_mlp_out')!, mlp.flat());
    const post = [0, 1].map((t) => [mid[t][0] + mlp[t][0], mid[t][1] + mlp[t][1]]);
    close(hooks.get('blocks.0.hook_resid_post')!, post.flat());
    close(logits, post.map(rms).flat());
  });
});

describe('identities on random models', () => {
  it('the two rope pairings agree when the q/k rows are permuted (llama2.c ↔ HF export permutation)', () => {
    const half = randomModel({ family: 'llama', seed: 3, rope_style: 'half' });
    // HF rotate_half pairs (j, j + hd/2); interleaved pairs (2j, 2j+1). Column 2j of the interleaved
    // W_Q must be column j of the half one, and 2j+1 column j + hd/2 (per head).
    const { n_heads, n_kv_heads, head_dim: hd, d_model: d } = half.config;
    const perm = (W: Float32Array, heads: number) => {
      const cols = heads * hd;
      const out = new Float32Array(W.length);
      for (let r = 0; r < d; r++)
        for (let h = 0; h < heads; h++)
          for (let j = 0; j < hd / 2; j++) {
            out[r * cols + h * hd + 2 * j] = W[r * cols + h * hd + j];
            out[r * cols + h * hd + 2 * j + 1] = W[r * cols + h * hd + j + hd / 2];
          }
      return out;
    };
    const inter: LanguageModel = {
      config: { ...half.config, rope_style: 'interleaved' },
      weights: {
        ...half.weights,
        blocks: half.weights.blocks.map((b) => ({
          ...b,
          W_Q: perm(b.W_Q, n_heads),
          W_K: perm(b.W_K, n_kv_heads),
        })),
      },
    };
    const ids = randomIds(half.config.vocab_size, 2, 9);
    const a = forwardReference(half, ids, 2, 9);
    const b = forwardReference(inter, ids, 2, 9);
    close(a.logits, b.logits, 1e-10);
    // …and without the permutation they differ (the test can fail).
    const unpermuted = forwardReference({ ...half, config: inter.config }, ids, 2, 9);
    expect(maxAbs(a.logits, unpermuted.logits)).toBeGreaterThan(1e-3);
  });

  it('grouped-query attention equals full attention with each K/V head repeated over its group', () => {
    const gqa = randomModel({ family: 'llama', seed: 4, n_heads: 4, n_kv_heads: 2 });
    const { d_model: d, head_dim: hd } = gqa.config;
    const repeat = (W: Float32Array) => {
      const out = new Float32Array(d * 4 * hd);
      for (let r = 0; r < d; r++)
        for (let h = 0; h < 4; h++)
          for (let e = 0; e < hd; e++)
            out[r * 4 * hd + h * hd + e] = W[r * 2 * hd + Math.floor(h / 2) * hd + e];
      return out;
    };
    const mha: LanguageModel = {
      config: { ...gqa.config, n_kv_heads: 4 },
      weights: {
        ...gqa.weights,
        blocks: gqa.weights.blocks.map((b) => ({ ...b, W_K: repeat(b.W_K), W_V: repeat(b.W_V) })),
      },
    };
    const ids = randomIds(gqa.config.vocab_size, 1, 12);
    close(forwardReference(gqa, ids, 1, 12).logits, forwardReference(mha, ids, 1, 12).logits, 1e-10);
  });

  for (const family of ['gpt2', 'llama'] as const) {
    it(`${family}: causal, sequences independent, resid_post L = resid_pre L+1`, () => {
      const m = randomModel({ family, seed: 6 });
      const V = m.config.vocab_size;
      const T = 10;
      const ids = randomIds(V, 2, T, 9);
      const full = forwardReference(m, ids, 2, T, {
        capture: ['blocks.0.hook_resid_post', 'blocks.1.hook_resid_pre'],
      });
      close(full.hooks.get('blocks.0.hook_resid_post')!, full.hooks.get('blocks.1.hook_resid_pre')!, 0);
      // Changing the last token of sequence 0 changes only its last position's logits.
      const ids2 = ids.slice();
      ids2[T - 1] = (ids2[T - 1] + 1) % V;
      const other = forwardReference(m, ids2, 2, T);
      close(other.logits.subarray(0, (T - 1) * V), full.logits.subarray(0, (T - 1) * V), 0);
      close(other.logits.subarray(T * V), full.logits.subarray(T * V), 0);
      expect(
        maxAbs(other.logits.subarray((T - 1) * V, T * V), full.logits.subarray((T - 1) * V, T * V)),
      ).toBeGreaterThan(1e-3);
      // A prefix run gives the same logits as the first positions of the long run.
      const prefix = forwardReference(m, ids.subarray(0, 4), 1, 4);
      close(prefix.logits, full.logits.subarray(0, 4 * V), 1e-12);
      // Sequence 1 alone equals sequence 1 inside the batch.
      const second = forwardReference(m, ids.subarray(T), 1, T);
      close(second.logits, full.logits.subarray(T * V), 0);
    });

    it(`${family}: patching a hook with its own value changes nothing; the forward continues from a patch`, () => {
      const m = randomModel({ family, seed: 7 });
      const T = 6;
      const ids = randomIds(m.config.vocab_size, 2, T, 11);
      const clean = forwardReference(m, ids, 2, T, {
        capture: HOOK_POINTS.map((p) => `blocks.1.${p}`).concat('blocks.0.hook_mlp_out'),
      });
      for (const p of HOOK_POINTS) {
        const name = `blocks.1.${p}`;
        const same = forwardReference(m, ids, 2, T, {
          patch: { hook: name, values: clean.hooks.get(name)! },
        });
        close(same.logits, clean.logits, 0);
      }
      // Zeroing attn_out of block 1 equals a model whose block-1 W_O and b_O are zero.
      const d = m.config.d_model;
      const zeroed = forwardReference(m, ids, 2, T, {
        patch: { hook: 'blocks.1.hook_attn_out', values: new Float64Array(2 * T * d) },
        capture: ['blocks.1.hook_attn_out', 'blocks.1.hook_resid_mid'],
      });
      const noAttn: LanguageModel = {
        config: m.config,
        weights: {
          ...m.weights,
          blocks: m.weights.blocks.map((b, L) =>
            L === 1
              ? { ...b, W_O: new Float32Array(b.W_O.length), b_O: b.b_O ? new Float32Array(d) : null }
              : b,
          ),
        },
      };
      close(zeroed.logits, forwardReference(noAttn, ids, 2, T).logits, 1e-12);
      expect(maxAbs(zeroed.logits, clean.logits)).toBeGreaterThan(1e-3);
      // The capture of the patched hook is the patch; resid_mid = resid_pre + patch.
      close(zeroed.hooks.get('blocks.1.hook_attn_out')!, new Float64Array(2 * T * d), 0);
      close(zeroed.hooks.get('blocks.1.hook_resid_mid')!, clean.hooks.get('blocks.1.hook_resid_pre')!, 0);
      // A float32 patch is accepted.
      const f32Patch = Float32Array.from(clean.hooks.get('blocks.0.hook_mlp_out')!);
      const p32 = forwardReference(m, ids, 2, T, {
        patch: { hook: 'blocks.0.hook_mlp_out', values: f32Patch },
      });
      close(p32.logits, clean.logits, 1e-4);
    });
  }

  it('gpt2: centred residual hooks have zero row means, and splicing a centred resid back leaves the logits', () => {
    const m = randomModel({ family: 'gpt2', seed: 8 });
    const T = 7;
    const d = m.config.d_model;
    const ids = randomIds(m.config.vocab_size, 1, T, 2);
    const clean = forwardReference(m, ids, 1, T, { capture: ['blocks.1.hook_resid_pre'] });
    const raw = clean.hooks.get('blocks.1.hook_resid_pre')!;
    const c = centerResidual(raw, d);
    for (let t = 0; t < T; t++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += c[t * d + k];
      expect(Math.abs(s)).toBeLessThan(1e-12);
      // Centring only shifts each row by a constant.
      const shift = raw[t * d] - c[t * d];
      for (let k = 1; k < d; k++) expect(raw[t * d + k] - c[t * d + k]).toBeCloseTo(shift, 12);
    }
    // Every reader of the residual stream is a LayerNorm, which ignores a per-row constant
    // (TransformerLens: center_writing_weights leaves the logits unchanged).
    const spliced = forwardReference(m, ids, 1, T, { patch: { hook: 'blocks.1.hook_resid_pre', values: c } });
    close(spliced.logits, clean.logits, 1e-10);
    expect(() => centerResidual(new Float64Array(5), 2)).toThrow(/rows of width 2/);
  });

  it('llama: a centred residual is not equivalent (RMSNorm sees the mean)', () => {
    const m = randomModel({ family: 'llama', seed: 8 });
    const ids = randomIds(m.config.vocab_size, 1, 5, 2);
    const clean = forwardReference(m, ids, 1, 5, { capture: ['blocks.1.hook_resid_pre'] });
    const c = centerResidual(clean.hooks.get('blocks.1.hook_resid_pre')!, m.config.d_model);
    const spliced = forwardReference(m, ids, 1, 5, { patch: { hook: 'blocks.1.hook_resid_pre', values: c } });
    expect(maxAbs(spliced.logits, clean.logits)).toBeGreaterThan(1e-3);
  });
});

describe('generateGreedy', () => {
  it('each new token is the argmax of the full forward over prompt + tokens so far; stops at stopAt and n_ctx', () => {
    const m = randomModel({ family: 'llama', seed: 12, n_ctx: 10, weight_scale: 2 });
    const V = m.config.vocab_size;
    const prompt = [1, 5, 9];
    const out = generateGreedy(m, prompt, 20);
    // n_ctx 10: the fed sequence is at most 10 tokens, so 10 − 3 + 1 = 8 new tokens.
    expect(out.length).toBe(8);
    const seq = prompt.concat(Array.from(out));
    const { logits } = forwardReference(m, Int32Array.from(seq.slice(0, 10)), 1, 10);
    for (let i = 0; i < out.length; i++) {
      const t = prompt.length - 1 + i;
      expect(out[i]).toBe(argmax(logits, t * V, V));
    }
    const stopped = generateGreedy(m, prompt, 20, { stopAt: [out[2]] });
    expect(Array.from(stopped)).toEqual(Array.from(out.subarray(0, out.indexOf(out[2]))));
    expect(() => generateGreedy(m, [], 3)).toThrow(/at least one token/);
  });
});
