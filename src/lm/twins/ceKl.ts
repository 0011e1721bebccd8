// Float64 CPU twin of shaders/lm_ce_kl.wgsl: per token, the running statistics of a clean and a new
// (SAE-spliced or ablated) row of logits, updated one vocabulary chunk at a time so that the logits of
// all tokens × the whole vocabulary never exist at once (SPEC §10). Per token n the state holds
//   [0] m_c  running max of the clean logits z_c         [1] s_c  Σ_v exp(z_c − m_c)
//   [2] m_n  running max of the new logits z_n           [3] s_n  Σ_v exp(z_n − m_n)
//   [4] a    Σ_v exp(z_c − m_c)·(z_c − z_n)              [5] z_c[target]   [6] z_n[target]   [7] unused
// so that, with lse = m + log s (the log-softmax normaliser),
//   CE_clean = lse_c − z_c[target],   CE_new = lse_n − z_n[target],
//   KL(p_c ‖ p_n) = Σ p_c·(log p_c − log p_n) = Σ p_c·(z_c − z_n) − lse_c + lse_n = a/s_c + lse_n − lse_c.
// Merging two partial states (m₁, s₁, a₁) and (m₂, s₂, a₂) of the same token: m = max(m₁, m₂),
// s = s₁·e^(m₁−m) + s₂·e^(m₂−m), and a rescales with the clean factors, exactly like s_c. A chunk whose
// first column is vocabulary index 0 starts the state afresh, so no initialising pass is needed.
// The GPU kernel sums in another order (lanes, then a tree); the maths is the same.

/** Floats of state per token. */
export const CE_KL_STATE = 8;
/** The target of a position with no next token (the last of a row): matches no vocabulary index. */
export const NO_TARGET = 0xffffffff;
/** The kernel's "−∞" (WGSL has no infinity literal): −FLT_MAX; e^(−FLT_MAX − m) is 0 for any finite m. */
export const NEG_BIG = -3.4028234663852886e38;

/** Where a chunk sits: `rows` tokens, `cols` vocabulary columns starting at `v0`, row stride `ld` (≥ cols). */
export interface CeKlChunk {
  rows: number;
  cols: number;
  ld: number;
  v0: number;
}

/**
 * Update `state` [rows · CE_KL_STATE] with one chunk of clean logits `zc` and new logits `zn`, both
 * [rows, ld] row-major holding columns v0 … v0 + cols − 1; `targets` [rows] are vocabulary indices
 * (NO_TARGET for none). The twin of one dispatch of shaders/lm_ce_kl.wgsl.
 */
export function ceKlChunkTwin(
  state: Float64Array,
  zc: ArrayLike<number>,
  zn: ArrayLike<number>,
  targets: ArrayLike<number>,
  c: CeKlChunk,
): void {
  if (c.ld < c.cols) throw new Error(`ceKl: row stride ${c.ld} < ${c.cols} columns`);
  if (state.length < c.rows * CE_KL_STATE) throw new Error(`ceKl: state holds < ${c.rows} tokens`);
  for (let n = 0; n < c.rows; n++) {
    // This chunk's own (m, s, a), online: one exponential per logit.
    let mc = NEG_BIG;
    let sc = 0;
    let mn = NEG_BIG;
    let sn = 0;
    let a = 0;
    const base = n * c.ld;
    for (let j = 0; j < c.cols; j++) {
      const x = zc[base + j];
      const y = zn[base + j];
      if (x > mc) {
        const r = Math.exp(mc - x);
        sc = sc * r + 1;
        a = a * r + (x - y);
        mc = x;
      } else {
        const e = Math.exp(x - mc);
        sc += e;
        a += e * (x - y);
      }
      if (y > mn) {
        sn = sn * Math.exp(mn - y) + 1;
        mn = y;
      } else sn += Math.exp(y - mn);
    }
    const o = n * CE_KL_STATE;
    const tgt = targets[n];
    const inChunk = tgt !== NO_TARGET && tgt >= c.v0 && tgt < c.v0 + c.cols;
    if (c.v0 === 0) {
      state[o] = mc;
      state[o + 1] = sc;
      state[o + 2] = mn;
      state[o + 3] = sn;
      state[o + 4] = a;
      state[o + 5] = 0;
      state[o + 6] = 0;
      state[o + 7] = 0;
    } else {
      const Mc = Math.max(state[o], mc);
      const r0 = Math.exp(state[o] - Mc);
      const r1 = Math.exp(mc - Mc);
      state[o] = Mc;
      state[o + 1] = state[o + 1] * r0 + sc * r1;
      state[o + 4] = state[o + 4] * r0 + a * r1;
      const Mn = Math.max(state[o + 2], mn);
      state[o + 3] = state[o + 3] * Math.exp(state[o + 2] - Mn) + sn * Math.exp(mn - Mn);
      state[o + 2] = Mn;
    }
    if (inChunk) {
      state[o + 5] = zc[base + tgt - c.v0];
      state[o + 6] = zn[base + tgt - c.v0];
    }
  }
}

/** Per-token results from a finished state (every vocabulary chunk added). */
export interface CeKlTokens {
  /** −log p_clean(target); NaN where the target is NO_TARGET. */
  ceClean: Float64Array;
  /** −log p_new(target); NaN where the target is NO_TARGET. */
  ceNew: Float64Array;
  /** KL(p_clean ‖ p_new) ≥ 0 (up to rounding). */
  kl: Float64Array;
}

/** CE and KL per token from `state` (floats or doubles, as read back from the GPU or kept by the twin). */
export function ceKlFinish(state: ArrayLike<number>, targets: ArrayLike<number>, rows: number): CeKlTokens {
  const ceClean = new Float64Array(rows);
  const ceNew = new Float64Array(rows);
  const kl = new Float64Array(rows);
  for (let n = 0; n < rows; n++) {
    const o = n * CE_KL_STATE;
    const lseC = state[o] + Math.log(state[o + 1]);
    const lseN = state[o + 2] + Math.log(state[o + 3]);
    const none = targets[n] === NO_TARGET;
    ceClean[n] = none ? NaN : lseC - state[o + 5];
    ceNew[n] = none ? NaN : lseN - state[o + 6];
    kl[n] = state[o + 4] / state[o + 1] + lseN - lseC;
  }
  return { ceClean, ceNew, kl };
}
