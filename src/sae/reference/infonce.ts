// T-SAE's contrastive loss (Bhalla et al., arXiv 2511.05541) in float64, from the paper's code
// (AI4LIFE-GROUP/temporal-saes, dictionary_learning/dictionary_learning/trainers/
// temporal_sequence_top_k.py, TemporalMatryoshkaBatchTopKTrainer.loss, `if self.contrastive`):
//
//   a_p = f_cur(p)[0:H], b_p = f_prev(p)[0:H]      high-level codes (the first Matryoshka group, H
//                                                  features) of the two tokens of pair p = 1..P
//   S_pq = sim(a_p, b_q) / τ                       'dot': a·b (the code: f_chunks[0] @ f_temp_chunks[0].T,
//                                                  no temperature, i.e. τ = 1); 'cosine': a·b/(‖a‖‖b‖),
//                                                  the paper's text; a zero code has cosine 0 with all
//   L_nce = ½ [ (1/P) Σ_p (logsumexp_q S_pq − S_pp) + (1/P) Σ_q (logsumexp_p S_pq − S_qq) ]
//                                                  symmetric cross-entropy with the diagonal as labels
//   total loss += temp_alpha · L_nce               temp_alpha = 0.1 (train_temporal.py --temp_alpha)
// Gradient: with R = softmax over each row of S and K = softmax over each column,
//   G_pq = (R_pq + K_pq − 2·δ_pq) / (2P)
//   'dot':    ∂a_p = (1/τ) Σ_q G_pq b_q          ∂b_q = (1/τ) Σ_p G_pq a_p
//   'cosine': ∂â_p = (1/τ) Σ_q G_pq b̂_q,  ∂a_p = (∂â_p − â_p (â_p·∂â_p)) / ‖a_p‖   (same for b)
// Pairs here: every valid adjacent pair of the batch (n−1, n), same document (tokens.ts hasPrev); the
// other pairs of the batch are the negatives. Differences from the code, written down because they
// change numbers: the code's default pairing (`--temporal r`, buffer.py) matches a token with a random
// EARLIER token of its context (`p` is the adjacent one, which the issue asks for), and its pairs come
// shuffled from a buffer of many contexts, so its negatives rarely share a context; in our sequence-
// ordered batches most negatives of a pair are other positions of the same few sequences.

export type Similarity = 'dot' | 'cosine';

export interface InfoNceResult {
  loss: number;
  /** Pairs P. */
  pairs: number;
  /** [N·m] ∂L_nce/∂f (non-zero only in the first H columns of the rows in a pair). */
  gF: Float64Array;
}

/** Pairs (cur, prev) as flat row indices. */
export function adjacentPairs(hasPrev: ArrayLike<number>): { cur: Int32Array; prev: Int32Array } {
  const cur: number[] = [];
  for (let n = 0; n < hasPrev.length; n++) if (hasPrev[n]) cur.push(n);
  return { cur: Int32Array.from(cur), prev: Int32Array.from(cur, (n) => n - 1) };
}

export function infoNceLoss(
  f: ArrayLike<number>,
  m: number,
  H: number,
  cur: ArrayLike<number>,
  prev: ArrayLike<number>,
  tau: number,
  sim: Similarity,
): InfoNceResult {
  const P = cur.length;
  const N = f.length / m;
  const gF = new Float64Array(N * m);
  if (P === 0) return { loss: 0, pairs: 0, gF };
  // Codes (normalized for 'cosine') and their norms.
  const A = new Float64Array(P * H),
    B = new Float64Array(P * H);
  const na = new Float64Array(P),
    nb = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    let sa = 0,
      sb = 0;
    for (let h = 0; h < H; h++) {
      const u = f[cur[p] * m + h],
        v = f[prev[p] * m + h];
      A[p * H + h] = u;
      B[p * H + h] = v;
      sa += u * u;
      sb += v * v;
    }
    na[p] = Math.sqrt(sa);
    nb[p] = Math.sqrt(sb);
    if (sim === 'cosine')
      for (let h = 0; h < H; h++) {
        A[p * H + h] = na[p] > 0 ? A[p * H + h] / na[p] : 0;
        B[p * H + h] = nb[p] > 0 ? B[p * H + h] / nb[p] : 0;
      }
  }
  const S = new Float64Array(P * P);
  for (let p = 0; p < P; p++)
    for (let q = 0; q < P; q++) {
      let v = 0;
      for (let h = 0; h < H; h++) v += A[p * H + h] * B[q * H + h];
      S[p * P + q] = v / tau;
    }
  // Row and column log-sum-exp (max-shifted).
  const rowL = new Float64Array(P),
    colL = new Float64Array(P);
  for (let p = 0; p < P; p++) {
    let mx = -Infinity;
    for (let q = 0; q < P; q++) mx = Math.max(mx, S[p * P + q]);
    let s = 0;
    for (let q = 0; q < P; q++) s += Math.exp(S[p * P + q] - mx);
    rowL[p] = mx + Math.log(s);
  }
  for (let q = 0; q < P; q++) {
    let mx = -Infinity;
    for (let p = 0; p < P; p++) mx = Math.max(mx, S[p * P + q]);
    let s = 0;
    for (let p = 0; p < P; p++) s += Math.exp(S[p * P + q] - mx);
    colL[q] = mx + Math.log(s);
  }
  let loss = 0;
  for (let p = 0; p < P; p++) loss += rowL[p] + colL[p] - 2 * S[p * P + p];
  loss /= 2 * P;
  // G and the gradients of the (normalized) codes.
  const gA = new Float64Array(P * H),
    gB = new Float64Array(P * H);
  for (let p = 0; p < P; p++)
    for (let q = 0; q < P; q++) {
      const s = S[p * P + q];
      const G = (Math.exp(s - rowL[p]) + Math.exp(s - colL[q]) - (p === q ? 2 : 0)) / (2 * P * tau);
      if (G === 0) continue;
      for (let h = 0; h < H; h++) {
        gA[p * H + h] += G * B[q * H + h];
        gB[q * H + h] += G * A[p * H + h];
      }
    }
  const scatter = (g: Float64Array, U: Float64Array, norm: Float64Array, rows: ArrayLike<number>) => {
    for (let p = 0; p < P; p++) {
      const o = rows[p] * m;
      if (sim === 'cosine') {
        if (!(norm[p] > 0)) continue;
        let dot = 0;
        for (let h = 0; h < H; h++) dot += U[p * H + h] * g[p * H + h];
        for (let h = 0; h < H; h++) gF[o + h] += (g[p * H + h] - U[p * H + h] * dot) / norm[p];
      } else for (let h = 0; h < H; h++) gF[o + h] += g[p * H + h];
    }
  };
  scatter(gA, A, na, cur);
  scatter(gB, B, nb, prev);
  return { loss, pairs: P, gF };
}
