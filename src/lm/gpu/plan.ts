// The GPU forward's memory plan, made before anything is allocated (SPEC §7: a model larger than the
// adapter allows is refused with the bytes it needs). Matrices larger than one storage binding are split,
// as src/sae/gpu/chunks.ts does for the SAE:
//   projections [in, out] (W_Q, W_K, W_V, W_O, W_in, W_gate, W_out) by columns: block b is stored
//     [in, cols_b] and its GEMM writes columns col0… of the output through offC / ldc;
//   the embedding W_E and unembedding W_U [vocab, d] by vocabulary rows: the gather runs once per block,
//     and the logits are computed in chunks of rows inside one block, so [tokens × vocab] never exists.
// Activation buffers ([S·T, width]) are not split: each must fit one binding (fewer sequences fix that).
import { formatBytes } from '../../sae/memoryPlan';
import type { LmConfig } from '../types';
import { MAX_HEAD_DIM } from './kernels';

export interface LmLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
  /** Total GPU memory the forward may use, when known (WebGPU does not report it). */
  memoryBudgetBytes?: number;
}

export interface LmPlanOptions {
  /** Most vocabulary rows per logits chunk (default 8192; smaller where one binding needs it). */
  vocabChunk?: number;
  /** Bytes per weight-matrix element (projections, W_E, W_U): 4 (f32) or 2 (f16, src/lm/gpu/f16Weights.ts). */
  weightBytes?: 2 | 4;
  /** Residual-stream-sized capture buffers to count (each [S·T, d_model] f32). */
  captures?: number;
  /** W_U is its own matrix (lm_head / wcls) rather than W_E's buffers (default false: tied). */
  untied?: boolean;
}

/** A run of columns (projections) or vocabulary rows (embedding, unembedding) held by one buffer. */
export interface Span {
  start: number;
  count: number;
}

/** A logits chunk: vocabulary rows v0 … v0+rows−1, inside vocabulary block `block`. */
export interface LogitsChunk {
  v0: number;
  rows: number;
  block: number;
}

export interface LmBufferSpec {
  name: string;
  bytes: number;
}

export interface LmMemoryPlan {
  fits: boolean;
  /** Total bytes the forward would allocate. */
  bytes: number;
  /** Why it does not fit, naming the buffer, the bytes and the limit (empty when it fits). */
  reason: string;
  buffers: LmBufferSpec[];
  largestBuffer: LmBufferSpec;
  /** Column blocks of a projection [nIn, nOut] (the same split for every matrix of that shape). */
  columnBlocks: (nIn: number, nOut: number) => Span[];
  /** Vocabulary-row blocks of W_E and W_U. */
  vocabBlocks: Span[];
  logitsChunks: LogitsChunk[];
  /** Widest logits chunk (the logits buffer is [S·T, this]). */
  logitsChunkRows: number;
}

/** Splits n items into spans of at most `per` (a multiple of 64 when it must split and can). */
export function spans(n: number, per: number): Span[] {
  let p = Math.min(n, per);
  if (p < n && p >= 64) p -= p % 64;
  const out: Span[] = [];
  for (let s = 0; s < n; s += p) out.push({ start: s, count: Math.min(p, n - s) });
  return out;
}

/** The plan for a model at S sequences of T tokens; never allocates. */
export function planLmMemory(
  c: LmConfig,
  S: number,
  T: number,
  limits: LmLimits,
  opts: LmPlanOptions = {},
): LmMemoryPlan {
  const bind = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const which =
    limits.maxStorageBufferBindingSize <= limits.maxBufferSize
      ? 'maxStorageBufferBindingSize'
      : 'maxBufferSize';
  const lim = `the adapter's ${which} is ${bind} bytes (${formatBytes(bind)})`;
  const wb = opts.weightBytes ?? 4;
  const N = S * T;
  const d = c.d_model;
  const qd = c.n_heads * c.head_dim;
  const kvd = c.n_kv_heads * c.head_dim;
  const reasons: string[] = [];
  if (T > c.n_ctx) reasons.push(`context ${T} is longer than the model's n_ctx ${c.n_ctx}.`);
  // GEMMs tile rows of C 16 at a time with at most 65535 workgroups a dimension (src/gpu/gemm.ts).
  if (N > 65535 * 16) reasons.push(`${N} tokens per forward (S·T) is more than the GEMMs' ${65535 * 16}.`);
  if (c.head_dim > MAX_HEAD_DIM || c.head_dim % 4 !== 0)
    reasons.push(
      `head_dim ${c.head_dim} is not a multiple of 4 up to ${MAX_HEAD_DIM} (the attention kernel's).`,
    );

  const perBind = (rowBytes: number) => Math.floor(bind / rowBytes);
  // f16 blocks hold an even number of columns per row (a row of halves starts on a word).
  const columnBlocks = (nIn: number, nOut: number) => {
    let per = Math.max(1, perBind(nIn * wb));
    if (wb === 2 && per < nOut && per > 1) per -= per % 2;
    return spans(nOut, per);
  };
  /** Bytes of a [nIn, cols] projection block as stored (f16: rows padded to even, buffer to 4 bytes). */
  const blockBytes = (nIn: number, cols: number) =>
    wb === 4 ? nIn * cols * 4 : Math.ceil((nIn * (cols + (cols & 1)) * 2) / 4) * 4;
  // f32: W_E / W_U [vocab, d] split by rows. f16: stored transposed [d, vocab] (the layout in which the
  // logits are an NN product with f16 weights), so the same split is by columns of that matrix.
  const vocabBlocks =
    wb === 4 ? spans(c.vocab_size, Math.max(1, perBind(d * 4))) : columnBlocks(d, c.vocab_size);
  let chunkMax = Math.max(1, Math.min(opts.vocabChunk ?? 8192, perBind(N * 4)));
  if (wb === 2 && chunkMax > 1) chunkMax -= chunkMax % 2; // f16 chunks start on a word
  const logitsChunks: LogitsChunk[] = [];
  vocabBlocks.forEach((b, block) => {
    for (const s of spans(b.count, chunkMax))
      logitsChunks.push({ v0: b.start + s.start, rows: s.count, block });
  });
  const logitsChunkRows = Math.max(...logitsChunks.map((k) => k.rows));

  const buffers: LmBufferSpec[] = [];
  const add = (name: string, bytes: number) => buffers.push({ name, bytes });
  const matrix = (name: string, nIn: number, nOut: number) =>
    columnBlocks(nIn, nOut).forEach((b, i) => add(`${name}#${i}`, blockBytes(nIn, b.count)));
  // Weights: one column split per projection, vectors whole.
  vocabBlocks.forEach((b, i) => add(`W_E#${i}`, blockBytes(d, b.count)));
  if (c.family === 'gpt2') add('W_pos', T * d * 4);
  const gpt2 = c.family === 'gpt2';
  for (let l = 0; l < c.n_layers; l++) {
    const p = `blocks.${l}.`;
    add(p + 'ln1', (gpt2 ? 2 : 1) * d * 4);
    matrix(p + 'W_Q', d, qd);
    matrix(p + 'W_K', d, kvd);
    matrix(p + 'W_V', d, kvd);
    matrix(p + 'W_O', qd, d);
    add(p + 'ln2', (gpt2 ? 2 : 1) * d * 4);
    matrix(p + 'W_in', d, c.d_mlp);
    if (!gpt2) matrix(p + 'W_gate', d, c.d_mlp);
    matrix(p + 'W_out', c.d_mlp, d);
    if (gpt2) add(p + 'biases', (qd + 2 * kvd + d + c.d_mlp + d) * 4);
  }
  add('ln_final', (gpt2 ? 2 : 1) * d * 4);
  // A tied unembedding shares W_E's buffers.
  if (opts.untied) vocabBlocks.forEach((b, i) => add(`W_U#${i}`, blockBytes(d, b.count)));
  // Activations (f32, unsplit).
  add('ids', N * 4);
  if (!gpt2) add('rope cos/sin', 2 * T * (c.head_dim / 2) * 4);
  for (const name of ['x', 'h', 'attn_out', 'mlp_out', 'h_final']) add(name, N * d * 4);
  add('q', N * qd * 4);
  add('z', N * qd * 4);
  add('k', N * kvd * 4);
  add('v', N * kvd * 4);
  add('up', N * c.d_mlp * 4);
  if (!gpt2) add('gate', N * c.d_mlp * 4);
  add('logits chunk', N * logitsChunkRows * 4);
  for (let i = 0; i < (opts.captures ?? 0); i++) add(`capture#${i}`, N * d * 4);

  const bytes = buffers.reduce((a, b) => a + b.bytes, 0);
  const largestBuffer = buffers.reduce((a, b) => (b.bytes > a.bytes ? b : a), buffers[0]);
  const over = buffers.filter((b) => b.bytes > bind);
  if (over.length > 0)
    reasons.push(
      `buffer ${over[0].name} needs ${over[0].bytes} bytes (${formatBytes(over[0].bytes)}) but ${lim}; ` +
        `too large: ${over.map((b) => `${b.name} (${b.bytes} bytes)`).join(', ')}. ` +
        `Use fewer sequences per forward (S = ${S}) or a shorter context (T = ${T}).`,
    );
  if (limits.memoryBudgetBytes !== undefined && bytes > limits.memoryBudgetBytes)
    reasons.push(
      `the forward pass of ${c.source} needs ${bytes} bytes (${formatBytes(bytes)}) but the memory budget ` +
        `is ${limits.memoryBudgetBytes} bytes (${formatBytes(limits.memoryBudgetBytes)}).`,
    );
  return {
    fits: reasons.length === 0,
    bytes,
    reason: reasons.join(' '),
    buffers,
    largestBuffer,
    columnBlocks,
    vocabBlocks,
    logitsChunks,
    logitsChunkRows,
  };
}
