// Shape checks for a LanguageModel (SPEC §7: hostile input). Loaders call checkLanguageModel after they
// assemble the weights; the reference and GPU forwards call it before trusting any length.
import type { LanguageModel, LmBlockWeights, LmConfig } from './types';

function fail(source: string, msg: string): never {
  throw new Error(`${source}: ${msg}`);
}

/** Throws, naming the first config value that is not a usable positive integer or is inconsistent. */
export function checkLmConfig(c: LmConfig): void {
  const src = c.source || 'model config';
  const ints: [string, number][] = [
    ['n_layers', c.n_layers],
    ['d_model', c.d_model],
    ['n_heads', c.n_heads],
    ['n_kv_heads', c.n_kv_heads],
    ['head_dim', c.head_dim],
    ['d_mlp', c.d_mlp],
    ['vocab_size', c.vocab_size],
    ['n_ctx', c.n_ctx],
  ];
  for (const [name, v] of ints)
    if (!Number.isSafeInteger(v) || v < 1) fail(src, `${name} must be a positive integer (got ${v})`);
  if (c.n_heads % c.n_kv_heads !== 0)
    fail(src, `n_heads ${c.n_heads} is not a multiple of n_kv_heads ${c.n_kv_heads}`);
  if (c.family === 'gpt2' && c.n_kv_heads !== c.n_heads)
    fail(src, `GPT-2 has no grouped-query attention (n_kv_heads ${c.n_kv_heads} ≠ n_heads ${c.n_heads})`);
  if (c.family === 'llama' && c.head_dim % 2 !== 0)
    fail(src, `rotary positions need an even head_dim (got ${c.head_dim})`);
  if (!(Number.isFinite(c.norm_eps) && c.norm_eps >= 0))
    fail(src, `norm_eps must be a finite number ≥ 0 (got ${c.norm_eps})`);
  if (c.family === 'llama' && !(Number.isFinite(c.rope_theta) && c.rope_theta > 0))
    fail(src, `rope_theta must be a positive number (got ${c.rope_theta})`);
  for (const [name, v] of [
    ['bos_token_id', c.bos_token_id],
    ['eos_token_id', c.eos_token_id],
    ['pad_token_id', c.pad_token_id],
  ] as const)
    if (v !== null && !(Number.isInteger(v) && v >= 0 && v < c.vocab_size))
      fail(src, `${name} ${v} is outside the vocabulary 0..${c.vocab_size - 1}`);
}

/** Throws, naming the first tensor whose presence or length does not match the config. */
export function checkLanguageModel(model: LanguageModel): void {
  const c = model.config;
  checkLmConfig(c);
  const w = model.weights;
  const src = c.source || 'model';
  const d = c.d_model;
  const qd = c.n_heads * c.head_dim;
  const kvd = c.n_kv_heads * c.head_dim;
  const gpt2 = c.family === 'gpt2';
  const size = (name: string, a: ArrayLike<number> | null | undefined, n: number, required: boolean) => {
    if (a == null) {
      if (required) fail(src, `tensor ${name} is missing`);
      return;
    }
    if (a.length !== n) fail(src, `tensor ${name} has ${a.length} values, expected ${n}`);
  };
  size('W_E', w.W_E, c.vocab_size * d, true);
  size('W_U', w.W_U, c.vocab_size * d, true);
  if (gpt2) size('W_pos', w.W_pos, c.n_ctx * d, true);
  else if (w.W_pos) fail(src, 'a rotary (Llama) model has no learned positions W_pos');
  size('ln_final_w', w.ln_final_w, d, true);
  size('ln_final_b', w.ln_final_b, d, gpt2);
  if (w.blocks.length !== c.n_layers)
    fail(src, `${w.blocks.length} blocks of weights for n_layers = ${c.n_layers}`);
  w.blocks.forEach((b: LmBlockWeights, L) => {
    const p = `blocks.${L}.`;
    size(p + 'ln1_w', b.ln1_w, d, true);
    size(p + 'ln1_b', b.ln1_b, d, gpt2);
    size(p + 'W_Q', b.W_Q, d * qd, true);
    size(p + 'W_K', b.W_K, d * kvd, true);
    size(p + 'W_V', b.W_V, d * kvd, true);
    size(p + 'b_Q', b.b_Q, qd, gpt2);
    size(p + 'b_K', b.b_K, kvd, gpt2);
    size(p + 'b_V', b.b_V, kvd, gpt2);
    size(p + 'W_O', b.W_O, qd * d, true);
    size(p + 'b_O', b.b_O, d, gpt2);
    size(p + 'ln2_w', b.ln2_w, d, true);
    size(p + 'ln2_b', b.ln2_b, d, gpt2);
    size(p + 'W_in', b.W_in, d * c.d_mlp, true);
    size(p + 'b_in', b.b_in, c.d_mlp, gpt2);
    size(p + 'W_gate', b.W_gate, d * c.d_mlp, c.act === 'silu');
    if (c.act !== 'silu' && b.W_gate) fail(src, `${p}W_gate is present but the MLP is not SwiGLU`);
    size(p + 'W_out', b.W_out, c.d_mlp * d, true);
    size(p + 'b_out', b.b_out, d, gpt2);
  });
}
