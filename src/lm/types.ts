// The language model as every part of src/lm sees it: one canonical layout for every family and file
// format (HF GPT-2, HF Llama, llama2.c), so the loaders, the float64 reference forward and the WGSL
// forward agree on shapes without knowing where the weights came from. SPEC §9 gives the maths.
//
// Conventions (TransformerLens-like): every matrix is row-major [in, out], applied as y = x·W + b, so
// each projection is one NN GEMM. HF Linear weights ([out, in]) are transposed by the loader; GPT-2's
// Conv1D weights are already [in, out]. Attention heads are contiguous blocks of head_dim columns.

/** Which block recipe: GPT-2 (LayerNorm, learned positions, gelu_new MLP) or Llama (RMSNorm, rotary, SwiGLU). */
export type LmFamily = 'gpt2' | 'llama';

/**
 * How rotary positions pair dimensions inside a head: HF's `rotate_half` pairs i with i + head_dim/2;
 * llama2.c's run.c pairs (2i, 2i+1). The two differ by a permutation of q/k rows (SPEC §9).
 */
export type RopeStyle = 'half' | 'interleaved';

export interface LmConfig {
  family: LmFamily;
  /** Where the config came from (e.g. "config.json", "stories15M.bin"), for messages. */
  source: string;
  n_layers: number;
  d_model: number;
  n_heads: number;
  /** Grouped-query attention: heads share K/V in groups of n_heads / n_kv_heads (= n_heads for GPT-2). */
  n_kv_heads: number;
  head_dim: number;
  /** Hidden width of the MLP. */
  d_mlp: number;
  vocab_size: number;
  /** Longest context the model accepts (GPT-2 n_positions, Llama max_position_embeddings, llama2.c seq_len). */
  n_ctx: number;
  /** LayerNorm / RMSNorm epsilon. */
  norm_eps: number;
  /** MLP activation: GPT-2's tanh-approximated GELU, or SiLU in a SwiGLU MLP (W_gate present). */
  act: 'gelu_new' | 'silu';
  /** Rotary settings (Llama family only; ignored for GPT-2). */
  rope_theta: number;
  rope_style: RopeStyle;
  bos_token_id: number | null;
  eos_token_id: number | null;
  pad_token_id: number | null;
}

export interface LmBlockWeights {
  /** [d] norm before attention (ln_1 / input_layernorm); bias null for RMSNorm. */
  ln1_w: Float32Array;
  ln1_b: Float32Array | null;
  /** [d, n_heads·head_dim], [d, n_kv·head_dim], [d, n_kv·head_dim]; biases null where the family has none. */
  W_Q: Float32Array;
  W_K: Float32Array;
  W_V: Float32Array;
  b_Q: Float32Array | null;
  b_K: Float32Array | null;
  b_V: Float32Array | null;
  /** [n_heads·head_dim, d] attention output projection. */
  W_O: Float32Array;
  b_O: Float32Array | null;
  /** [d] norm before the MLP (ln_2 / post_attention_layernorm). */
  ln2_w: Float32Array;
  ln2_b: Float32Array | null;
  /** [d, d_mlp] up projection (c_fc / up_proj) and, for SwiGLU, the gate (gate_proj); else null. */
  W_in: Float32Array;
  b_in: Float32Array | null;
  W_gate: Float32Array | null;
  /** [d_mlp, d] down projection (c_proj of the MLP / down_proj). */
  W_out: Float32Array;
  b_out: Float32Array | null;
}

export interface LmWeights {
  /** [vocab, d] token embedding. */
  W_E: Float32Array;
  /** [n_ctx, d] learned positions (GPT-2), null for rotary models. */
  W_pos: Float32Array | null;
  blocks: LmBlockWeights[];
  /** [d] final norm; bias null for RMSNorm. */
  ln_final_w: Float32Array;
  ln_final_b: Float32Array | null;
  /**
   * [vocab, d] unembedding rows: logits = h·W_Uᵀ (an NT product). The same array as W_E when the
   * embedding is tied (GPT-2, llama2.c with a positive vocab_size), lm_head.weight / wcls otherwise.
   */
  W_U: Float32Array;
}

export interface LanguageModel {
  config: LmConfig;
  weights: LmWeights;
}

/** TransformerLens hook names (SPEC §9) this app can capture or patch, per block. */
export const HOOK_POINTS = [
  'hook_resid_pre',
  'hook_attn_out',
  'hook_resid_mid',
  'hook_mlp_out',
  'hook_resid_post',
] as const;
export type HookPoint = (typeof HOOK_POINTS)[number];

/** A parsed hook name: `blocks.L.hook_*`. */
export interface HookName {
  layer: number;
  point: HookPoint;
}

/** Parses `blocks.L.hook_*`, checking L against the model; throws with a message naming the problem. */
export function parseHookName(name: string, n_layers: number): HookName {
  const m = /^blocks\.(\d+)\.(hook_[a-z_]+)$/.exec(name);
  if (!m) throw new Error(`"${name}" is not a hook name of the form blocks.L.hook_resid_pre`);
  const layer = Number(m[1]);
  const point = m[2] as HookPoint;
  if (!HOOK_POINTS.includes(point))
    throw new Error(`"${name}": unknown hook point ${point} (known: ${HOOK_POINTS.join(', ')})`);
  if (layer >= n_layers) throw new Error(`"${name}": the model has blocks 0–${n_layers - 1}`);
  return { layer, point };
}
