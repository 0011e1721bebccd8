// The language model's forward pass in float64 (SPEC §9): the test oracle for the WGSL forward, as
// src/sae/reference is for the SAE trainer. Shapes: ids [S, T], every hook [S·T, d], logits [S·T, V].
//
//   GPT-2   x = W_E[id] + W_pos[t]
//   Llama   x = W_E[id]                      (rotary positions inside attention)
//   per block L:
//     resid_pre  = x
//     attn_out   = attn(norm1(x))·W_O + b_O   causal, grouped-query: head h reads K/V head ⌊h/(H/H_kv)⌋
//     resid_mid  = resid_pre + attn_out
//     mlp_out    = gelu_new(h·W_in + b_in)·W_out + b_out      (GPT-2, h = norm2(resid_mid))
//                  (silu(h·W_gate) ⊙ h·W_in)·W_out            (Llama SwiGLU)
//     resid_post = resid_mid + mlp_out
//   logits = norm_f(x)·W_Uᵀ
//
// `patch` replaces one hook's value and the forward continues from the replacement (splicing an SAE's
// reconstruction back in, issue 12); a captured hook records the value the forward went on with.
import { checkLanguageModel } from '../check';
import { type LanguageModel, parseHookName } from '../types';
import { applyRope, geluNew, layerNorm, matmul, matmulNT, rmsNorm, silu } from './ops';

export interface ForwardOptions {
  /** Hook names (`blocks.L.hook_*`) whose values to return. */
  capture?: string[];
  /** Replace one hook's value ([S·T·d]) and continue the forward from it. */
  patch?: { hook: string; values: Float32Array | Float64Array };
  /** Compute the logits (default true); false returns an empty array (captures only). */
  logits?: boolean;
}

export interface ForwardResult {
  /** [S·T·vocab] next-token logits. */
  logits: Float64Array;
  /** Captured hooks, each [S·T·d]. */
  hooks: Map<string, Float64Array>;
}

function checkIds(model: LanguageModel, ids: Int32Array, S: number, T: number): void {
  const c = model.config;
  if (!(Number.isInteger(S) && S >= 1 && Number.isInteger(T) && T >= 1))
    throw new Error(`forward: S and T must be positive integers (got ${S}, ${T})`);
  if (ids.length !== S * T) throw new Error(`forward: ${ids.length} token ids, S·T = ${S * T}`);
  if (T > c.n_ctx) throw new Error(`forward: T = ${T} is longer than the model's context ${c.n_ctx}`);
  for (let i = 0; i < ids.length; i++)
    if (!(ids[i] >= 0 && ids[i] < c.vocab_size))
      throw new Error(`forward: token id ${ids[i]} at ${i} is outside the vocabulary 0..${c.vocab_size - 1}`);
}

/**
 * Causal grouped-query attention for one block, before W_O: z [S·T, H·hd].
 * q [S·T, H·hd], k/v [S·T, Hkv·hd], already rotated for rotary models.
 */
export function causalAttention(
  q: Float64Array,
  k: Float64Array,
  v: Float64Array,
  S: number,
  T: number,
  nHeads: number,
  nKv: number,
  hd: number,
): Float64Array {
  const qd = nHeads * hd;
  const kvd = nKv * hd;
  const group = nHeads / nKv;
  const scale = 1 / Math.sqrt(hd);
  const z = new Float64Array(S * T * qd);
  const p = new Float64Array(T);
  for (let s = 0; s < S; s++)
    for (let h = 0; h < nHeads; h++) {
      const g = Math.floor(h / group);
      for (let t = 0; t < T; t++) {
        const qo = (s * T + t) * qd + h * hd;
        let max = -Infinity;
        for (let u = 0; u <= t; u++) {
          const ko = (s * T + u) * kvd + g * hd;
          let dot = 0;
          for (let e = 0; e < hd; e++) dot += q[qo + e] * k[ko + e];
          p[u] = dot * scale;
          if (p[u] > max) max = p[u];
        }
        let sum = 0;
        for (let u = 0; u <= t; u++) {
          p[u] = Math.exp(p[u] - max);
          sum += p[u];
        }
        for (let u = 0; u <= t; u++) {
          const w = p[u] / sum;
          const vo = (s * T + u) * kvd + g * hd;
          for (let e = 0; e < hd; e++) z[qo + e] += w * v[vo + e];
        }
      }
    }
  return z;
}

function add(a: Float64Array, b: Float64Array): Float64Array {
  const y = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) y[i] = a[i] + b[i];
  return y;
}

export function forwardReference(
  model: LanguageModel,
  ids: Int32Array,
  S: number,
  T: number,
  opts: ForwardOptions = {},
): ForwardResult {
  checkLanguageModel(model);
  checkIds(model, ids, S, T);
  const c = model.config;
  const w = model.weights;
  const d = c.d_model;
  const N = S * T;
  const H = c.n_heads;
  const Hkv = c.n_kv_heads;
  const hd = c.head_dim;
  const gpt2 = c.family === 'gpt2';

  const want = new Set<string>();
  for (const name of opts.capture ?? []) {
    parseHookName(name, c.n_layers);
    want.add(name);
  }
  const patch = opts.patch;
  if (patch) {
    parseHookName(patch.hook, c.n_layers);
    if (patch.values.length !== N * d)
      throw new Error(`forward: patch for ${patch.hook} has ${patch.values.length} values, S·T·d = ${N * d}`);
  }
  const hooks = new Map<string, Float64Array>();
  // Every hook passes through here: patched if it is the patch target, recorded if captured.
  const hook = (name: string, value: Float64Array): Float64Array => {
    const out = patch && patch.hook === name ? Float64Array.from(patch.values) : value;
    if (want.has(name)) hooks.set(name, out.slice());
    return out;
  };
  const norm = (x: Float64Array, nw: Float32Array, nb: Float32Array | null) =>
    gpt2 ? layerNorm(x, nw, nb, N, d, c.norm_eps) : rmsNorm(x, nw, N, d, c.norm_eps);

  let x: Float64Array = new Float64Array(N * d);
  for (let i = 0; i < N; i++) {
    const tok = ids[i];
    const t = i % T;
    for (let k = 0; k < d; k++) x[i * d + k] = w.W_E[tok * d + k] + (w.W_pos ? w.W_pos[t * d + k] : 0);
  }

  for (let L = 0; L < c.n_layers; L++) {
    const b = w.blocks[L];
    const p = `blocks.${L}.`;
    x = hook(p + 'hook_resid_pre', x);

    const h1 = norm(x, b.ln1_w, b.ln1_b);
    const q = matmul(h1, b.W_Q, b.b_Q, N, d, H * hd);
    const kk = matmul(h1, b.W_K, b.b_K, N, d, Hkv * hd);
    const v = matmul(h1, b.W_V, b.b_V, N, d, Hkv * hd);
    if (!gpt2)
      for (let i = 0; i < N; i++) {
        const t = i % T;
        applyRope(q, i * H * hd, H, hd, t, c.rope_theta, c.rope_style);
        applyRope(kk, i * Hkv * hd, Hkv, hd, t, c.rope_theta, c.rope_style);
      }
    const z = causalAttention(q, kk, v, S, T, H, Hkv, hd);
    const attnOut = hook(p + 'hook_attn_out', matmul(z, b.W_O, b.b_O, N, H * hd, d));
    x = hook(p + 'hook_resid_mid', add(x, attnOut));

    const h2 = norm(x, b.ln2_w, b.ln2_b);
    const up = matmul(h2, b.W_in, b.b_in, N, d, c.d_mlp);
    if (c.act === 'silu') {
      const gate = matmul(h2, b.W_gate!, null, N, d, c.d_mlp);
      for (let i = 0; i < up.length; i++) up[i] *= silu(gate[i]);
    } else {
      for (let i = 0; i < up.length; i++) up[i] = geluNew(up[i]);
    }
    const mlpOut = hook(p + 'hook_mlp_out', matmul(up, b.W_out, b.b_out, N, c.d_mlp, d));
    x = hook(p + 'hook_resid_post', add(x, mlpOut));
  }

  const logits =
    opts.logits === false
      ? new Float64Array(0)
      : matmulNT(norm(x, w.ln_final_w, w.ln_final_b), w.W_U, N, d, c.vocab_size);
  return { logits, hooks };
}

/**
 * TransformerLens's center_writing_weights, seen from the hooks (SPEC §9): each row of a residual-stream
 * hook [N, d] minus its mean over d_model. LayerNorm ignores the constant, so a GPT-2's logits are
 * unchanged; RMSNorm does not, so Llama-family models are never centred.
 */
export function centerResidual(values: Float32Array | Float64Array, d: number): Float64Array {
  if (!(Number.isInteger(d) && d >= 1) || values.length % d !== 0)
    throw new Error(`centerResidual: ${values.length} values are not rows of width ${d}`);
  const y = new Float64Array(values.length);
  for (let o = 0; o < values.length; o += d) {
    let mean = 0;
    for (let k = 0; k < d; k++) mean += values[o + k];
    mean /= d;
    for (let k = 0; k < d; k++) y[o + k] = values[o + k] - mean;
  }
  return y;
}

/** Index of the largest value; the first one on ties (llama2.c's sample_argmax). */
export function argmax(a: ArrayLike<number>, offset = 0, n = a.length - offset): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (a[offset + i] > a[offset + best]) best = i;
  return best;
}

/**
 * Greedy (temperature 0) continuation of a prompt: up to n new token ids, each the argmax of the last
 * position's logits. Stops early at a token in `stopAt` (not returned; llama2.c's run.c stops at BOS = 1)
 * or when the fed sequence would exceed the model's context.
 */
export function generateGreedy(
  model: LanguageModel,
  promptIds: ArrayLike<number>,
  n: number,
  opts: { stopAt?: number[] } = {},
): Int32Array {
  if (promptIds.length < 1) throw new Error('generateGreedy: the prompt needs at least one token');
  const V = model.config.vocab_size;
  const seq = Array.from(promptIds);
  const out: number[] = [];
  while (out.length < n && seq.length <= model.config.n_ctx) {
    const T = seq.length;
    const { logits } = forwardReference(model, Int32Array.from(seq), 1, T);
    const next = argmax(logits, (T - 1) * V, V);
    if (opts.stopAt?.includes(next)) break;
    out.push(next);
    seq.push(next);
  }
  return Int32Array.from(out);
}
