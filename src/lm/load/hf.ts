// Hugging Face model folders: `config.json` + `model.safetensors`, for GPT2LMHeadModel and
// LlamaForCausalLM (SPEC §9). The config is read first and checked; every tensor the architecture needs
// is matched by name and shape against it (a missing, mis-shaped or unknown tensor is named); the
// float32 footprint is checked against the byte budget before any weight is read; then each tensor is
// read, converted to float32 (F32 / F16 / BF16) and laid out [in, out]: HF Linear weights are stored
// [out, in] and are transposed, GPT-2's Conv1D weights are already [in, out].
import type { ByteSource } from '../../data/byteSource';
import { DataFileError } from '../../data/errors';
import { readSafetensorsHeader } from '../../data/safetensors';
import { checkLanguageModel } from '../check';
import type { LanguageModel, LmBlockWeights, LmConfig } from '../types';
import { checkBudget, type FloatDtype, type LoadOptions, positiveInt, readFloats, transpose } from './common';

export const HF_ARCHITECTURES = ['GPT2LMHeadModel', 'LlamaForCausalLM'] as const;

export interface HfConfig {
  config: LmConfig;
  /** The unembedding is the embedding (tie_word_embeddings). */
  tied: boolean;
  /** Llama attention_bias: q/k/v/o projections carry biases. */
  attentionBias: boolean;
}

function tokenId(v: unknown): number | null {
  if (Array.isArray(v)) v = v[0];
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null;
}

/** Parses and checks config.json; throws a DataFileError naming the key at fault. */
export function parseHfConfig(text: string, file = 'config.json'): HfConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DataFileError(file, `not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new DataFileError(file, 'not a JSON object');
  const c = raw as Record<string, unknown>;
  const archs = Array.isArray(c.architectures) ? c.architectures : [];
  const arch = typeof archs[0] === 'string' ? archs[0] : undefined;
  const family =
    arch === 'GPT2LMHeadModel' || (!arch && c.model_type === 'gpt2')
      ? 'gpt2'
      : arch === 'LlamaForCausalLM' || (!arch && c.model_type === 'llama')
        ? 'llama'
        : null;
  if (!family)
    throw new DataFileError(
      file,
      `architecture ${JSON.stringify(arch ?? c.model_type ?? null)} is not supported (supported: ${HF_ARCHITECTURES.join(', ')})`,
    );
  const int = (key: string, v: unknown = c[key]) => positiveInt(file, key, v);
  const num = (key: string, dflt: number) => {
    const v = c[key] ?? dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new DataFileError(file, `${key} must be a non-negative number (got ${JSON.stringify(v)})`);
    return v;
  };
  const refuse = (key: string, why: string) => {
    throw new DataFileError(file, `${key} = ${JSON.stringify(c[key])} is not supported (${why})`);
  };
  let config: LmConfig;
  let tied: boolean;
  let attentionBias = false;
  if (family === 'gpt2') {
    const d = int('n_embd');
    const n_heads = int('n_head');
    if (d % n_heads !== 0)
      throw new DataFileError(file, `n_embd ${d} is not a multiple of n_head ${n_heads}`);
    const act = c.activation_function ?? 'gelu_new';
    if (act !== 'gelu_new') refuse('activation_function', 'GPT-2 here uses gelu_new');
    if (c.scale_attn_by_inverse_layer_idx === true)
      refuse('scale_attn_by_inverse_layer_idx', 'not implemented');
    if (c.scale_attn_weights === false)
      refuse('scale_attn_weights', 'attention is always scaled by 1/√head_dim');
    if (c.add_cross_attention === true) refuse('add_cross_attention', 'decoder-only models only');
    tied = c.tie_word_embeddings !== false;
    config = {
      family,
      source: file,
      n_layers: int('n_layer'),
      d_model: d,
      n_heads,
      n_kv_heads: n_heads,
      head_dim: d / n_heads,
      d_mlp: c.n_inner == null ? 4 * d : int('n_inner'),
      vocab_size: int('vocab_size'),
      n_ctx: int('n_positions', c.n_positions ?? c.n_ctx),
      norm_eps: num('layer_norm_epsilon', 1e-5),
      act: 'gelu_new',
      rope_theta: 10000,
      rope_style: 'half',
      bos_token_id: tokenId(c.bos_token_id ?? 50256),
      eos_token_id: tokenId(c.eos_token_id ?? 50256),
      pad_token_id: tokenId(c.pad_token_id),
    };
  } else {
    const d = int('hidden_size');
    const n_heads = int('num_attention_heads');
    const n_kv_heads = c.num_key_value_heads == null ? n_heads : int('num_key_value_heads');
    if (n_heads % n_kv_heads !== 0)
      throw new DataFileError(
        file,
        `num_attention_heads ${n_heads} is not a multiple of num_key_value_heads ${n_kv_heads}`,
      );
    if (c.head_dim == null && d % n_heads !== 0)
      throw new DataFileError(file, `hidden_size ${d} is not a multiple of num_attention_heads ${n_heads}`);
    const head_dim = c.head_dim == null ? d / n_heads : int('head_dim');
    if (head_dim % 2 !== 0)
      throw new DataFileError(file, `head_dim ${head_dim} must be even for rotary positions`);
    if ((c.hidden_act ?? 'silu') !== 'silu') refuse('hidden_act', 'the Llama MLP here is SwiGLU with silu');
    if (c.rope_scaling != null) refuse('rope_scaling', 'only plain rotary positions are implemented');
    if (c.mlp_bias === true) refuse('mlp_bias', 'the Llama MLP here has no biases');
    attentionBias = c.attention_bias === true;
    tied = c.tie_word_embeddings === true;
    const theta = num('rope_theta', 10000);
    if (!(theta > 0)) refuse('rope_theta', 'must be positive');
    config = {
      family,
      source: file,
      n_layers: int('num_hidden_layers'),
      d_model: d,
      n_heads,
      n_kv_heads,
      head_dim,
      d_mlp: int('intermediate_size'),
      vocab_size: int('vocab_size'),
      n_ctx: int('max_position_embeddings', c.max_position_embeddings ?? 2048),
      norm_eps: num('rms_norm_eps', 1e-6),
      act: 'silu',
      rope_theta: theta,
      rope_style: 'half',
      bos_token_id: tokenId(c.bos_token_id),
      eos_token_id: tokenId(c.eos_token_id),
      pad_token_id: tokenId(c.pad_token_id),
    };
  }
  // A token id outside the vocabulary is dropped rather than trusted.
  for (const k of ['bos_token_id', 'eos_token_id', 'pad_token_id'] as const) {
    const v = config[k];
    if (v !== null && v >= config.vocab_size) config[k] = null;
  }
  return { config, tied, attentionBias };
}

/** One tensor the architecture needs: its shape as stored and where its float32 values go. */
interface Slot {
  shape: number[];
  /** Stored [out, in] (HF Linear): transposed to [in, out]. */
  linear?: boolean;
  optional?: boolean;
  set: (a: Float32Array) => void;
}

/** Tensors that hold no weights (attention masks, cached rotary frequencies): present or not, ignored. */
const BUFFERS = [
  /^h\.\d+\.attn\.(bias|masked_bias)$/,
  /^model\.layers\.\d+\.self_attn\.rotary_emb\.inv_freq$/,
];

function slots(h: HfConfig, blocks: Partial<LmBlockWeights>[], top: Record<string, Float32Array>) {
  const c = h.config;
  const d = c.d_model;
  const V = c.vocab_size;
  const qd = c.n_heads * c.head_dim;
  const kvd = c.n_kv_heads * c.head_dim;
  const m = new Map<string, Slot>();
  const put = (name: string, slot: Slot) => m.set(name, slot);
  if (c.family === 'gpt2') {
    put('wte.weight', { shape: [V, d], set: (a) => (top.W_E = a) });
    put('wpe.weight', { shape: [c.n_ctx, d], set: (a) => (top.W_pos = a) });
    put('ln_f.weight', { shape: [d], set: (a) => (top.ln_final_w = a) });
    put('ln_f.bias', { shape: [d], set: (a) => (top.ln_final_b = a) });
    put('lm_head.weight', { shape: [V, d], optional: h.tied, set: (a) => (top.W_U = a) });
    for (let L = 0; L < c.n_layers; L++) {
      const b = blocks[L];
      const p = `h.${L}.`;
      put(p + 'ln_1.weight', { shape: [d], set: (a) => (b.ln1_w = a) });
      put(p + 'ln_1.bias', { shape: [d], set: (a) => (b.ln1_b = a) });
      // c_attn: Conv1D [d, 3d], columns Q | K | V.
      put(p + 'attn.c_attn.weight', {
        shape: [d, 3 * d],
        set: (a) => {
          const part = (k: number) => {
            const out = new Float32Array(d * d);
            for (let r = 0; r < d; r++)
              out.set(a.subarray(r * 3 * d + k * d, r * 3 * d + (k + 1) * d), r * d);
            return out;
          };
          [b.W_Q, b.W_K, b.W_V] = [part(0), part(1), part(2)];
        },
      });
      put(p + 'attn.c_attn.bias', {
        shape: [3 * d],
        set: (a) => ([b.b_Q, b.b_K, b.b_V] = [a.slice(0, d), a.slice(d, 2 * d), a.slice(2 * d)]),
      });
      put(p + 'attn.c_proj.weight', { shape: [d, d], set: (a) => (b.W_O = a) });
      put(p + 'attn.c_proj.bias', { shape: [d], set: (a) => (b.b_O = a) });
      put(p + 'ln_2.weight', { shape: [d], set: (a) => (b.ln2_w = a) });
      put(p + 'ln_2.bias', { shape: [d], set: (a) => (b.ln2_b = a) });
      put(p + 'mlp.c_fc.weight', { shape: [d, c.d_mlp], set: (a) => (b.W_in = a) });
      put(p + 'mlp.c_fc.bias', { shape: [c.d_mlp], set: (a) => (b.b_in = a) });
      put(p + 'mlp.c_proj.weight', { shape: [c.d_mlp, d], set: (a) => (b.W_out = a) });
      put(p + 'mlp.c_proj.bias', { shape: [d], set: (a) => (b.b_out = a) });
    }
  } else {
    put('model.embed_tokens.weight', { shape: [V, d], set: (a) => (top.W_E = a) });
    put('model.norm.weight', { shape: [d], set: (a) => (top.ln_final_w = a) });
    put('lm_head.weight', { shape: [V, d], optional: h.tied, set: (a) => (top.W_U = a) });
    for (let L = 0; L < c.n_layers; L++) {
      const b = blocks[L];
      const p = `model.layers.${L}.`;
      put(p + 'input_layernorm.weight', { shape: [d], set: (a) => (b.ln1_w = a) });
      put(p + 'self_attn.q_proj.weight', { shape: [qd, d], linear: true, set: (a) => (b.W_Q = a) });
      put(p + 'self_attn.k_proj.weight', { shape: [kvd, d], linear: true, set: (a) => (b.W_K = a) });
      put(p + 'self_attn.v_proj.weight', { shape: [kvd, d], linear: true, set: (a) => (b.W_V = a) });
      put(p + 'self_attn.o_proj.weight', { shape: [d, qd], linear: true, set: (a) => (b.W_O = a) });
      if (h.attentionBias) {
        put(p + 'self_attn.q_proj.bias', { shape: [qd], set: (a) => (b.b_Q = a) });
        put(p + 'self_attn.k_proj.bias', { shape: [kvd], set: (a) => (b.b_K = a) });
        put(p + 'self_attn.v_proj.bias', { shape: [kvd], set: (a) => (b.b_V = a) });
        put(p + 'self_attn.o_proj.bias', { shape: [d], set: (a) => (b.b_O = a) });
      }
      put(p + 'post_attention_layernorm.weight', { shape: [d], set: (a) => (b.ln2_w = a) });
      put(p + 'mlp.gate_proj.weight', { shape: [c.d_mlp, d], linear: true, set: (a) => (b.W_gate = a) });
      put(p + 'mlp.up_proj.weight', { shape: [c.d_mlp, d], linear: true, set: (a) => (b.W_in = a) });
      put(p + 'mlp.down_proj.weight', { shape: [d, c.d_mlp], linear: true, set: (a) => (b.W_out = a) });
    }
  }
  return m;
}

/** GPT-2 checkpoints are saved with or without the `transformer.` prefix of GPT2LMHeadModel. */
function canonicalName(family: 'gpt2' | 'llama', name: string): string {
  return family === 'gpt2' && name.startsWith('transformer.') ? name.slice('transformer.'.length) : name;
}

/**
 * Loads an HF model from its config.json and model.safetensors. Throws a DataFileError naming the file
 * and the problem; nothing is allocated for the weights until every check has passed.
 */
export async function loadHfModel(
  configSrc: ByteSource,
  weightsSrc: ByteSource,
  opts: LoadOptions = {},
): Promise<LanguageModel> {
  if (configSrc.size > 1 << 20)
    throw new DataFileError(configSrc.name, `${configSrc.size} bytes is too large for a config`);
  const text = new TextDecoder().decode(await configSrc.read(0, configSrc.size));
  const h = parseHfConfig(text, configSrc.name);
  const c = h.config;
  const file = weightsSrc.name;
  const { tensors } = await readSafetensorsHeader(weightsSrc);
  // Each block stores at least 9 tensors: a config claiming more blocks than that is refused before
  // building the list of expected names (a hostile n_layer would otherwise allocate it).
  if (9 * c.n_layers > tensors.length)
    throw new DataFileError(
      file,
      `${configSrc.name} has ${c.n_layers} layers, but the file holds only ${tensors.length} tensors`,
    );
  const blocks: Partial<LmBlockWeights>[] = Array.from({ length: c.n_layers }, () => ({}));
  const top: Record<string, Float32Array> = {};
  const want = slots(h, blocks, top);
  const found = new Map<string, (typeof tensors)[number]>();
  for (const t of tensors) {
    const name = canonicalName(c.family, t.name);
    if (BUFFERS.some((re) => re.test(name))) continue;
    const slot = want.get(name);
    if (!slot)
      throw new DataFileError(
        file,
        `unexpected tensor ${t.name} for ${c.family === 'gpt2' ? 'GPT-2' : 'Llama'} (${configSrc.name})`,
      );
    if (found.has(name)) throw new DataFileError(file, `tensor ${name} appears twice`);
    if (t.dtype !== 'F32' && t.dtype !== 'F16' && t.dtype !== 'BF16')
      throw new DataFileError(file, `tensor ${t.name} has dtype ${t.dtype}; F32, F16 or BF16 is needed`);
    if (t.shape.length !== slot.shape.length || t.shape.some((s, i) => s !== slot.shape[i]))
      throw new DataFileError(
        file,
        `tensor ${t.name} has shape [${t.shape}], ${configSrc.name} implies [${slot.shape}]`,
      );
    found.set(name, t);
  }
  const missing = [...want].filter(([n, s]) => !s.optional && !found.has(n)).map(([n]) => n);
  if (missing.length)
    throw new DataFileError(
      file,
      `missing tensor${missing.length > 1 ? 's' : ''} ${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ` and ${missing.length - 4} more` : ''}`,
    );
  // A tied model ignores a stored lm_head (HF ties it to the embedding on load).
  if (h.tied) found.delete('lm_head.weight');
  let floats = 0;
  for (const t of found.values()) floats += t.shape.reduce((a, s) => a * s, 1);
  checkBudget(file, floats, opts);

  for (const [name, t] of found) {
    const slot = want.get(name)!;
    const n = t.shape.reduce((a, s) => a * s, 1);
    let a = await readFloats(weightsSrc, t.offset, n, t.dtype as FloatDtype);
    if (slot.linear) a = transpose(a, t.shape[0], t.shape[1]);
    slot.set(a);
  }
  const none = null;
  const model: LanguageModel = {
    config: c,
    weights: {
      W_E: top.W_E,
      W_pos: top.W_pos ?? none,
      blocks: blocks.map((b) => ({
        ln1_w: b.ln1_w!,
        ln1_b: b.ln1_b ?? none,
        W_Q: b.W_Q!,
        W_K: b.W_K!,
        W_V: b.W_V!,
        b_Q: b.b_Q ?? none,
        b_K: b.b_K ?? none,
        b_V: b.b_V ?? none,
        W_O: b.W_O!,
        b_O: b.b_O ?? none,
        ln2_w: b.ln2_w!,
        ln2_b: b.ln2_b ?? none,
        W_in: b.W_in!,
        b_in: b.b_in ?? none,
        W_gate: b.W_gate ?? none,
        W_out: b.W_out!,
        b_out: b.b_out ?? none,
      })),
      ln_final_w: top.ln_final_w,
      ln_final_b: top.ln_final_b ?? none,
      W_U: h.tied ? top.W_E : top.W_U,
    },
  };
  try {
    checkLanguageModel(model);
  } catch (e) {
    throw new DataFileError(file, (e as Error).message);
  }
  return model;
}
