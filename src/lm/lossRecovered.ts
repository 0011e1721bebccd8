// Loss recovered (SPEC §10, SAELens `sae_lens/evals.py` get_recons_loss / get_downstream_reconstruction_metrics):
// the model's next-token loss with the hook's activation as it is (clean), replaced by the SAE's
// reconstruction x̂ (spliced) and replaced by zeros (ablated), over the same token rows [S, T].
//
//   CE at position t (0 ≤ t ≤ T−2) = −log softmax(z_t)[ids[t+1]]            (TransformerLens loss_per_token)
//   KL at position t (0 ≤ t ≤ T−1) = Σ_v p_clean·(log p_clean − log p_new)   (from log-softmax)
//   a position counts when its *input* token ids[t] is not BOS, EOS or pad (SAELens run_evals'
//     ignore_tokens = {pad, eos, bos}; for CE the [S, T] mask loses its last column, so a kept CE
//     position may predict a special token, and KL keeps position T−1, which CE has no target for)
//   CE_x, KL_x = means over all kept positions of all rows (SAELens concatenates, then averages)
//   ce_loss_score = (CE_abl − CE_sae)/(CE_abl − CE_clean),  kl_div_score = (KL_abl − KL_sae)/KL_abl.
// The spliced run keeps the original activation at ignored positions (SAELens torch.where(mask, x̂, x));
// the ablation zeros every position, ignored ones included (SAELens standard_zero_ablate_hook).
//
// Logits arrive one vocabulary chunk at a time (TokenLossStream, on the float64 twin of
// shaders/lm_ce_kl.wgsl), so [tokens × vocabulary] never has to exist. Everything here is float64.
import { centerResidual, forwardReference } from './reference/forward';
import { CE_KL_STATE, ceKlChunkTwin, ceKlFinish, NO_TARGET } from './twins/ceKl';
import { type LanguageModel, type LmConfig, parseHookName } from './types';

/** The token ids SAELens leaves out: the tokenizer's pad, EOS and BOS ids that exist (no repeats). */
export function ignoredTokenIds(
  c: Pick<LmConfig, 'bos_token_id' | 'eos_token_id' | 'pad_token_id'>,
): number[] {
  const ids = [c.pad_token_id, c.eos_token_id, c.bos_token_id].filter((v): v is number => v !== null);
  return [...new Set(ids)];
}

/** keep[i] = 1 when ids[i] is none of `ignore` (SAELens `mask`, [S·T]). */
export function keepMask(ids: ArrayLike<number>, ignore: readonly number[]): Uint8Array {
  const set = new Set(ignore);
  const keep = new Uint8Array(ids.length);
  for (let i = 0; i < ids.length; i++) keep[i] = set.has(ids[i]) ? 0 : 1;
  return keep;
}

/** targets[s·T + t] = ids[s·T + t + 1], NO_TARGET at t = T − 1; every id checked against the vocabulary. */
export function nextTokenTargets(ids: ArrayLike<number>, S: number, T: number, vocab: number): Uint32Array {
  if (ids.length !== S * T) throw new Error(`loss recovered: ${ids.length} token ids, S·T = ${S * T}`);
  const out = new Uint32Array(S * T);
  for (let i = 0; i < ids.length; i++) {
    if (!(Number.isInteger(ids[i]) && ids[i] >= 0 && ids[i] < vocab))
      throw new Error(`loss recovered: token id ${ids[i]} at ${i} is outside the vocabulary 0..${vocab - 1}`);
    out[i] = i % T === T - 1 ? NO_TARGET : ids[i + 1];
  }
  return out;
}

/**
 * The spliced hook value: x̂ where the position is kept, the original x where it is ignored
 * (SAELens standard_replacement_hook). x and x̂ are [N, d] in the activation's own units.
 */
export function spliceReconstruction(
  x: ArrayLike<number>,
  xhat: ArrayLike<number>,
  keep: Uint8Array,
  d: number,
): Float64Array {
  const N = keep.length;
  if (x.length !== N * d || xhat.length !== N * d)
    throw new Error(`splice: x has ${x.length} and x̂ ${xhat.length} values, expected ${N}·${d}`);
  const out = new Float64Array(N * d);
  for (let n = 0; n < N; n++) {
    const src = keep[n] ? xhat : x;
    for (let j = 0; j < d; j++) out[n * d + j] = src[n * d + j];
  }
  return out;
}

/** log softmax of z[off … off + V): z − max − log Σ e^(z − max). */
export function logSoftmax(z: ArrayLike<number>, off = 0, V = z.length - off): Float64Array {
  let max = -Infinity;
  for (let v = 0; v < V; v++) max = Math.max(max, z[off + v]);
  let s = 0;
  for (let v = 0; v < V; v++) s += Math.exp(z[off + v] - max);
  const lse = max + Math.log(s);
  const out = new Float64Array(V);
  for (let v = 0; v < V; v++) out[v] = z[off + v] - lse;
  return out;
}

/** KL(softmax(zc) ‖ softmax(zn)) of one row, from log-softmax (the direct formula TokenLossStream streams). */
export function klFromLogits(
  zc: ArrayLike<number>,
  zn: ArrayLike<number>,
  off = 0,
  V = zc.length - off,
): number {
  const lc = logSoftmax(zc, off, V);
  const ln = logSoftmax(zn, off, V);
  let kl = 0;
  for (let v = 0; v < V; v++) kl += Math.exp(lc[v]) * (lc[v] - ln[v]);
  return kl;
}

/** Per-token results of the clean run and of each new run (CE NaN at positions without a target). */
export interface TokenLosses {
  ceClean: Float64Array;
  /** One per new run, in the order given to TokenLossStream. */
  ce: Float64Array[];
  kl: Float64Array[];
}

/**
 * Per-token CE and KL of a clean run and `variants` new runs over the same N tokens, fed one
 * vocabulary chunk at a time in order (v0 = 0, then each chunk right after the last). Holds
 * N·CE_KL_STATE doubles per new run, never a row of the vocabulary.
 */
export class TokenLossStream {
  private readonly states: Float64Array[];
  private next = 0;

  constructor(
    readonly rows: number,
    readonly variants: number,
    private readonly targets: Uint32Array,
    readonly vocab: number,
  ) {
    if (targets.length !== rows)
      throw new Error(`TokenLossStream: ${targets.length} targets for ${rows} rows`);
    this.states = Array.from({ length: variants }, () => new Float64Array(rows * CE_KL_STATE));
  }

  /** clean and each of `news` are [rows, ld] holding vocabulary columns v0 … v0 + cols − 1. */
  addChunk(v0: number, cols: number, ld: number, clean: ArrayLike<number>, news: ArrayLike<number>[]): void {
    if (v0 !== this.next) throw new Error(`TokenLossStream: chunk starts at ${v0}, expected ${this.next}`);
    if (!(cols >= 1 && v0 + cols <= this.vocab))
      throw new Error(
        `TokenLossStream: columns ${v0}..${v0 + cols - 1} outside the vocabulary of ${this.vocab}`,
      );
    if (news.length !== this.variants)
      throw new Error(`TokenLossStream: ${news.length} new runs, expected ${this.variants}`);
    for (const a of [clean, ...news])
      if (a.length < (this.rows - 1) * ld + cols)
        throw new Error('TokenLossStream: a chunk is shorter than rows × ld');
    const chunk = { rows: this.rows, cols, ld, v0 };
    news.forEach((zn, k) => ceKlChunkTwin(this.states[k], clean, zn, this.targets, chunk));
    this.next = v0 + cols;
  }

  finish(): TokenLosses {
    if (this.next !== this.vocab)
      throw new Error(`TokenLossStream: only columns 0..${this.next - 1} of ${this.vocab} were added`);
    const parts = this.states.map((s) => ceKlFinish(s, this.targets, this.rows));
    return {
      ceClean: parts.length ? parts[0].ceClean : new Float64Array(this.rows),
      ce: parts.map((p) => p.ceNew),
      kl: parts.map((p) => p.kl),
    };
  }
}

/** SAEBench "core" names (model_performance_preservation, model_behavior_preservation) plus counts. */
export interface LossRecoveredMetrics {
  ce_loss_score: number;
  ce_loss_with_sae: number;
  ce_loss_without_sae: number;
  ce_loss_with_ablation: number;
  kl_div_score: number;
  kl_div_with_sae: number;
  kl_div_with_ablation: number;
  /** Every token of the rows evaluated, S·T each (SAELens token_stats.total_tokens_eval_reconstruction). */
  total_tokens_eval_reconstruction: number;
  /** Positions that entered the CE and KL means. */
  ce_tokens: number;
  kl_tokens: number;
}

/** Per-token values of one batch of rows for the accumulator ([S·T] each; CE at t = T−1 unused). */
export interface BatchTokenLosses {
  ceClean: ArrayLike<number>;
  ceSae: ArrayLike<number>;
  ceAbl: ArrayLike<number>;
  klSae: ArrayLike<number>;
  klAbl: ArrayLike<number>;
}

/** Sums over kept positions across batches; metrics() turns them into SAEBench's numbers. */
export class LossRecoveredAccumulator {
  private ceClean = 0;
  private ceSae = 0;
  private ceAbl = 0;
  private klSae = 0;
  private klAbl = 0;
  private nCe = 0;
  private nKl = 0;
  private tokens = 0;

  add(b: BatchTokenLosses, keep: Uint8Array, S: number, T: number): void {
    const N = S * T;
    if (keep.length !== N) throw new Error(`loss recovered: mask of ${keep.length} for ${S}×${T} tokens`);
    for (const a of [b.ceClean, b.ceSae, b.ceAbl, b.klSae, b.klAbl])
      if (a.length !== N) throw new Error(`loss recovered: ${a.length} per-token values for ${N} tokens`);
    for (let i = 0; i < N; i++) {
      if (!keep[i]) continue;
      this.klSae += b.klSae[i];
      this.klAbl += b.klAbl[i];
      this.nKl++;
      if (i % T === T - 1) continue;
      this.ceClean += b.ceClean[i];
      this.ceSae += b.ceSae[i];
      this.ceAbl += b.ceAbl[i];
      this.nCe++;
    }
    this.tokens += N;
  }

  metrics(): LossRecoveredMetrics {
    const ce_loss_without_sae = this.ceClean / this.nCe;
    const ce_loss_with_sae = this.ceSae / this.nCe;
    const ce_loss_with_ablation = this.ceAbl / this.nCe;
    const kl_div_with_sae = this.klSae / this.nKl;
    const kl_div_with_ablation = this.klAbl / this.nKl;
    return {
      ce_loss_score:
        (ce_loss_with_ablation - ce_loss_with_sae) / (ce_loss_with_ablation - ce_loss_without_sae),
      ce_loss_with_sae,
      ce_loss_without_sae,
      ce_loss_with_ablation,
      kl_div_score: (kl_div_with_ablation - kl_div_with_sae) / kl_div_with_ablation,
      kl_div_with_sae,
      kl_div_with_ablation,
      total_tokens_eval_reconstruction: this.tokens,
      ce_tokens: this.nCe,
      kl_tokens: this.nKl,
    };
  }
}

/** Maps a hook's activation [N, d] (float64, the model's own units) to the SAE's x̂ in the same units. */
export type Reconstruct = (x: Float64Array, N: number, d: number) => ArrayLike<number>;

export interface LossRecoveredReferenceOptions {
  /** Token ids left out (default: the model's pad, EOS and BOS, ignoredTokenIds). */
  ignore?: number[];
  /** Vocabulary columns per chunk fed to TokenLossStream (default: the whole vocabulary at once). */
  chunk?: number;
  /**
   * TransformerLens centring (SPEC §9, LayerNorm models only): the SAE reads, and ignored positions keep,
   * the hook's rows minus their mean over d_model; the logits are unchanged by it.
   */
  center?: boolean;
}

/** Everything the float64 reference computes for one batch: the metrics and what went into them. */
export interface LossRecoveredReference {
  metrics: LossRecoveredMetrics;
  tokens: TokenLosses;
  keep: Uint8Array;
  /** The hook's clean activation [S·T·d] (centred with `center`), as the SAE read it. */
  x: Float64Array;
  /** What the spliced run saw at the hook [S·T·d]. */
  spliced: Float64Array;
}

/**
 * The whole measurement on the float64 reference forward (src/lm/reference/forward.ts): the oracle for
 * the GPU path. Three forwards over the same rows; logits are streamed through TokenLossStream in
 * chunks of `chunk` columns (the reference forward itself returns all logits: it is for tiny models).
 */
export function lossRecoveredReference(
  model: LanguageModel,
  ids: Int32Array,
  S: number,
  T: number,
  hook: string,
  reconstruct: Reconstruct,
  opts: LossRecoveredReferenceOptions = {},
): LossRecoveredReference {
  const c = model.config;
  parseHookName(hook, c.n_layers);
  const V = c.vocab_size;
  const d = c.d_model;
  const N = S * T;
  const targets = nextTokenTargets(ids, S, T, V);
  const keep = keepMask(ids, opts.ignore ?? ignoredTokenIds(c));
  const clean = forwardReference(model, ids, S, T, { capture: [hook] });
  if (opts.center && c.family !== 'gpt2') throw new Error(`${c.source}: centring is for LayerNorm models`);
  const raw = clean.hooks.get(hook)!;
  const x = opts.center ? centerResidual(raw, d) : raw;
  const xhat = reconstruct(x, N, d);
  const spliced = spliceReconstruction(x, xhat, keep, d);
  const sae = forwardReference(model, ids, S, T, { patch: { hook, values: spliced } });
  const abl = forwardReference(model, ids, S, T, { patch: { hook, values: new Float64Array(N * d) } });
  const stream = new TokenLossStream(N, 2, targets, V);
  const step = opts.chunk ?? V;
  // Column slices [N, cols] of the full logits, as a chunked unembedding would produce them.
  const slice = (z: Float64Array, v0: number, cols: number) => {
    const out = new Float64Array(N * cols);
    for (let n = 0; n < N; n++) out.set(z.subarray(n * V + v0, n * V + v0 + cols), n * cols);
    return out;
  };
  for (let v0 = 0; v0 < V; v0 += step) {
    const cols = Math.min(step, V - v0);
    stream.addChunk(v0, cols, cols, slice(clean.logits, v0, cols), [
      slice(sae.logits, v0, cols),
      slice(abl.logits, v0, cols),
    ]);
  }
  const tokens = stream.finish();
  const acc = new LossRecoveredAccumulator();
  acc.add(
    {
      ceClean: tokens.ceClean,
      ceSae: tokens.ce[0],
      ceAbl: tokens.ce[1],
      klSae: tokens.kl[0],
      klAbl: tokens.kl[1],
    },
    keep,
    S,
    T,
  );
  return { metrics: acc.metrics(), tokens, keep, x, spliced };
}

/** One token of the live probe: what the SAE makes of it and what splicing it in costs the model. */
export interface ProbeToken {
  position: number;
  id: number;
  /** Whether the loss-recovered mask counts this position (its input token is not BOS, EOS or pad). */
  kept: boolean;
  /** Next-token CE here, clean and with x̂ spliced in (NaN at the row's last position). */
  ceClean: number;
  ceSae: number;
  /** ceSae − ceClean: what the SAE costs the model at this position. */
  dCe: number;
  /** KL(p_clean ‖ p_sae) of the next-token distribution here. */
  klSae: number;
  /** ‖x − x̂‖² / ‖x‖² of the hook's activation here (0 when x = 0 and x̂ = 0). */
  reconError: number;
  /** Active features (f > 0). */
  l0: number;
  /** The most active features, largest first; delta = f_t − f_{t−1} (f_{−1} = 0). */
  top: { feature: number; value: number; delta: number }[];
}

/**
 * The probe's table for one row of T tokens from the hook's x [T, d], the SAE's x̂ [T, d] and f [T, m],
 * and the per-token losses of that row (TokenLosses of the spliced run, or GpuTokenLosses).
 */
export function probeTokens(p: {
  ids: ArrayLike<number>;
  x: ArrayLike<number>;
  xhat: ArrayLike<number>;
  f: ArrayLike<number>;
  d: number;
  m: number;
  ceClean: ArrayLike<number>;
  ceSae: ArrayLike<number>;
  klSae: ArrayLike<number>;
  keep: Uint8Array;
  topK?: number;
}): ProbeToken[] {
  const T = p.ids.length;
  const { d, m } = p;
  if (p.x.length !== T * d || p.xhat.length !== T * d || p.f.length !== T * m)
    throw new Error(
      `probe: x ${p.x.length}, x̂ ${p.xhat.length}, f ${p.f.length} values for ${T} tokens (d ${d}, m ${m})`,
    );
  const k = Math.min(p.topK ?? 8, m);
  const out: ProbeToken[] = [];
  for (let t = 0; t < T; t++) {
    let err = 0;
    let norm = 0;
    for (let j = 0; j < d; j++) {
      const xv = p.x[t * d + j];
      const e = xv - p.xhat[t * d + j];
      err += e * e;
      norm += xv * xv;
    }
    const active: number[] = [];
    for (let i = 0; i < m; i++) if (p.f[t * m + i] > 0) active.push(i);
    active.sort((a, b) => p.f[t * m + b] - p.f[t * m + a] || a - b);
    const top = active.slice(0, k).map((i) => ({
      feature: i,
      value: p.f[t * m + i],
      delta: p.f[t * m + i] - (t > 0 ? p.f[(t - 1) * m + i] : 0),
    }));
    const last = t === T - 1;
    out.push({
      position: t,
      id: p.ids[t],
      kept: p.keep[t] === 1,
      ceClean: last ? NaN : p.ceClean[t],
      ceSae: last ? NaN : p.ceSae[t],
      dCe: last ? NaN : p.ceSae[t] - p.ceClean[t],
      klSae: p.klSae[t],
      reconError: norm > 0 ? err / norm : err > 0 ? Infinity : 0,
      l0: active.length,
      top,
    });
  }
  return out;
}
