// llama2.c checkpoints (karpathy/llama2.c export.py, read by run.c), float32 only:
//   legacy (v0): 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len), a
//     negative vocab_size meaning the classifier is not shared; then token_embedding [V, dim],
//     rms_att [L, dim], wq [L, dim, dim], wk [L, kv_dim, dim], wv, wo [L, dim, dim], rms_ffn [L, dim],
//     w1 [L, hidden, dim], w2 [L, dim, hidden], w3 [L, hidden, dim], rms_final [dim],
//     freq_cis_real and _imag [seq_len, head_size/2] (unused), then wcls [V, dim] when unshared.
//   v1: u32 magic 0x616b3432 ("ak42"), int32 version 1, the same 7 int32 (vocab_size positive), a u8
//     shared_classifier flag, zero padding to 256 bytes; then rms_att, rms_ffn, rms_final, token
//     embedding, wq, wk, wv, wo, w1, w2, w3, and wcls when unshared (export.py version1_export).
// Matrices are PyTorch Linear [out, in] and are transposed to [in, out]. run.c's recipe: RMSNorm with
// eps 1e-5, rotary θ 10000 pairing (2i, 2i+1), SwiGLU w2(silu(w1 x)·w3 x), head_size = dim / n_heads.
// The file length must be exactly what the header's shapes need (run.c would read past it).
import type { ByteSource } from '../../data/byteSource';
import { DataFileError } from '../../data/errors';
import { checkLanguageModel } from '../check';
import type { LanguageModel, LmBlockWeights, LmConfig } from '../types';
import { checkBudget, type LoadOptions, positiveInt, readFloats, transpose } from './common';

export const LLAMA2C_MAGIC = 0x616b3432;

export interface Llama2cHeader {
  version: 0 | 1;
  dim: number;
  hidden_dim: number;
  n_layers: number;
  n_heads: number;
  n_kv_heads: number;
  vocab_size: number;
  seq_len: number;
  shared: boolean;
  /** Byte offset of the first weight. */
  dataStart: number;
}

/** Parses and checks the header from the file's first bytes (at least 28; 256 for v1). */
export function parseLlama2cHeader(head: Uint8Array, fileSize: number, file: string): Llama2cHeader {
  if (head.length < 28)
    throw new DataFileError(file, `${fileSize} bytes is too short for a llama2.c header (28)`);
  const dv = new DataView(head.buffer, head.byteOffset, head.length);
  let version: 0 | 1 = 0;
  let p = 0;
  if (dv.getUint32(0, true) === LLAMA2C_MAGIC) {
    const v = dv.getInt32(4, true);
    if (v === 2)
      throw new DataFileError(file, 'llama2.c version 2 (int8-quantized) checkpoints are not supported');
    if (v !== 1) throw new DataFileError(file, `unknown llama2.c version ${v} (known: legacy, 1)`);
    if (head.length < 256 || fileSize < 256)
      throw new DataFileError(file, `${fileSize} bytes is too short for a llama2.c v1 header (256)`);
    version = 1;
    p = 8;
  }
  const ints = [0, 1, 2, 3, 4, 5, 6].map((i) => dv.getInt32(p + 4 * i, true));
  const [dim, hidden_dim, n_layers, n_heads, n_kv_heads, rawVocab, seq_len] = ints;
  const shared = version === 1 ? head[36] !== 0 : rawVocab > 0;
  if (version === 1 && rawVocab < 0)
    throw new DataFileError(file, `vocab_size ${rawVocab} is negative in a v1 header`);
  if (version === 1 && head[36] > 1)
    throw new DataFileError(file, `shared_classifier flag ${head[36]} is not 0 or 1`);
  const h: Llama2cHeader = {
    version,
    dim: positiveInt(file, 'dim', dim),
    hidden_dim: positiveInt(file, 'hidden_dim', hidden_dim),
    n_layers: positiveInt(file, 'n_layers', n_layers),
    n_heads: positiveInt(file, 'n_heads', n_heads),
    n_kv_heads: positiveInt(file, 'n_kv_heads', n_kv_heads),
    vocab_size: positiveInt(file, 'vocab_size', Math.abs(rawVocab)),
    seq_len: positiveInt(file, 'seq_len', seq_len),
    shared,
    dataStart: version === 1 ? 256 : 28,
  };
  if (h.dim % h.n_heads !== 0)
    throw new DataFileError(file, `dim ${h.dim} is not a multiple of n_heads ${h.n_heads}`);
  if (h.n_heads % h.n_kv_heads !== 0)
    throw new DataFileError(file, `n_heads ${h.n_heads} is not a multiple of n_kv_heads ${h.n_kv_heads}`);
  if ((h.dim / h.n_heads) % 2 !== 0)
    throw new DataFileError(file, `head size ${h.dim / h.n_heads} must be even for rotary positions`);
  return h;
}

interface Segment {
  name: string;
  count: number;
}

/** The file's float segments in order, with sizes from the header. */
function layout(h: Llama2cHeader): Segment[] {
  const { dim: d, hidden_dim: f, n_layers: L, vocab_size: V } = h;
  const hs = d / h.n_heads;
  const kvd = h.n_kv_heads * hs;
  const mats: Segment[] = [
    { name: 'wq', count: L * d * d },
    { name: 'wk', count: L * kvd * d },
    { name: 'wv', count: L * kvd * d },
    { name: 'wo', count: L * d * d },
  ];
  const ffn: Segment[] = [
    { name: 'w1', count: L * f * d },
    { name: 'w2', count: L * d * f },
    { name: 'w3', count: L * f * d },
  ];
  const emb = { name: 'token_embedding', count: V * d };
  const cls = h.shared ? [] : [{ name: 'wcls', count: V * d }];
  if (h.version === 0)
    return [
      emb,
      { name: 'rms_att', count: L * d },
      ...mats,
      { name: 'rms_ffn', count: L * d },
      ...ffn,
      { name: 'rms_final', count: d },
      { name: 'freq_cis_real', count: (h.seq_len * hs) / 2 },
      { name: 'freq_cis_imag', count: (h.seq_len * hs) / 2 },
      ...cls,
    ];
  return [
    { name: 'rms_att', count: L * d },
    { name: 'rms_ffn', count: L * d },
    { name: 'rms_final', count: d },
    emb,
    ...mats,
    ...ffn,
    ...cls,
  ];
}

export function llama2cConfig(h: Llama2cHeader, file: string): LmConfig {
  return {
    family: 'llama',
    source: file,
    n_layers: h.n_layers,
    d_model: h.dim,
    n_heads: h.n_heads,
    n_kv_heads: h.n_kv_heads,
    head_dim: h.dim / h.n_heads,
    d_mlp: h.hidden_dim,
    vocab_size: h.vocab_size,
    n_ctx: h.seq_len,
    norm_eps: 1e-5,
    act: 'silu',
    rope_theta: 10000,
    rope_style: 'interleaved',
    // The Llama 2 sentencepiece vocabulary: 0 <unk>, 1 <s>, 2 </s> (run.c's BOS = 1, EOS = 2).
    bos_token_id: h.vocab_size > 1 ? 1 : null,
    eos_token_id: h.vocab_size > 2 ? 2 : null,
    pad_token_id: null,
  };
}

/** Loads a llama2.c `.bin` checkpoint (legacy or v1). Throws a DataFileError naming the file and problem. */
export async function loadLlama2c(src: ByteSource, opts: LoadOptions = {}): Promise<LanguageModel> {
  const file = src.name;
  const head = await src.read(0, Math.min(256, src.size));
  const h = parseLlama2cHeader(head, src.size, file);
  const segs = layout(h);
  const floats = segs.reduce((a, s) => a + s.count, 0);
  const need = h.dataStart + 4 * floats;
  if (!Number.isSafeInteger(need) || need !== src.size)
    throw new DataFileError(
      file,
      `the header's shapes (dim ${h.dim}, hidden_dim ${h.hidden_dim}, ${h.n_layers} layers, vocab ${h.vocab_size}, seq_len ${h.seq_len}, ${h.shared ? 'shared' : 'unshared'} classifier) need ${need} bytes, the file has ${src.size}`,
    );
  const used = floats - (h.version === 0 ? h.seq_len * (h.dim / h.n_heads) : 0);
  checkBudget(file, used, opts);

  const c = llama2cConfig(h, file);
  const d = h.dim;
  const f = h.hidden_dim;
  const kvd = h.n_kv_heads * (d / h.n_heads);
  const at = new Map<string, number>();
  let off = h.dataStart;
  for (const s of segs) {
    at.set(s.name, off);
    off += 4 * s.count;
  }
  const whole = (name: string, count: number) => readFloats(src, at.get(name)!, count, 'F32');
  /** Layer L of a stacked [L, rows, cols] Linear segment, transposed to [cols, rows]. */
  const layer = async (name: string, L: number, rows: number, cols: number) =>
    transpose(await readFloats(src, at.get(name)! + 4 * L * rows * cols, rows * cols, 'F32'), rows, cols);
  const rmsAtt = await whole('rms_att', h.n_layers * d);
  const rmsFfn = await whole('rms_ffn', h.n_layers * d);
  const blocks: LmBlockWeights[] = [];
  for (let L = 0; L < h.n_layers; L++)
    blocks.push({
      ln1_w: rmsAtt.slice(L * d, (L + 1) * d),
      ln1_b: null,
      W_Q: await layer('wq', L, d, d),
      W_K: await layer('wk', L, kvd, d),
      W_V: await layer('wv', L, kvd, d),
      b_Q: null,
      b_K: null,
      b_V: null,
      W_O: await layer('wo', L, d, d),
      b_O: null,
      ln2_w: rmsFfn.slice(L * d, (L + 1) * d),
      ln2_b: null,
      W_in: await layer('w3', L, f, d),
      b_in: null,
      W_gate: await layer('w1', L, f, d),
      W_out: await layer('w2', L, d, f),
      b_out: null,
    });
  const W_E = await whole('token_embedding', h.vocab_size * d);
  const model: LanguageModel = {
    config: c,
    weights: {
      W_E,
      W_pos: null,
      blocks,
      ln_final_w: await whole('rms_final', d),
      ln_final_b: null,
      W_U: h.shared ? W_E : await whole('wcls', h.vocab_size * d),
    },
  };
  try {
    checkLanguageModel(model);
  } catch (e) {
    throw new DataFileError(file, (e as Error).message);
  }
  return model;
}
