// Matryoshka reconstruction loss (Bussmann et al. 2025, "Learning Multi-Level Features with Matryoshka
// SAEs"; Nabeshima 2024) in float64, as the T-SAE code computes it (AI4LIFE-GROUP/temporal-saes,
// dictionary_learning/dictionary_learning/trainers/matryoshka_batch_top_k.py, loss, and
// temporal_sequence_top_k.py TemporalMatryoshkaBatchTopKTrainer.loss):
//
//   groups g = 1..G of the dictionary, features [e_{g−1}, e_g), e_0 = 0, e_G = m (prefix ends)
//   x̂⁽ᵍ⁾_n = b_dec + Σ_{i < e_g} f_ni·W_dec_i                 (nested prefixes, each reconstructs x)
//   L_g    = w_g · (1/N) Σ_n ‖x_n − x̂⁽ᵍ⁾_n‖²
//   L_mat  = (1/G) Σ_g L_g                                    (the code's l2_losses.mean())
// Group sizes: int(fraction·m) for all but the last, the remainder last (the trainer's __init__);
// weights w_g default 1/G (Matryoshka BatchTopK) or the T-SAE script's [0.2, 0.8] (train_temporal.py).
// N = valid tokens. Gradients (cumulative from the last group, so one pass over the groups):
//   C⁽ᵍ⁾_n  = Σ_{g' ≥ g} (w_g'/G)·(2/N)·(x̂⁽ᵍ'⁾_n − x_n)
//   ∂L/∂f_ni = C⁽ᵍ⁽ⁱ⁾⁾_n · W_dec_i        g(i) = the group holding feature i
//   ∂L/∂W_dec_i = Σ_n f_ni·C⁽ᵍ⁽ⁱ⁾⁾_n      ∂L/∂b_dec (through x̂) = Σ_n C⁽¹⁾_n
// With G = 1 and w = 1 this is SPEC §4's 'squared' L_recon and its g_x̂.

/** Prefix ends from group fractions (matryoshka_batch_top_k.py: int(f·m) each, the remainder last). */
export function matryoshkaEnds(m: number, fractions: number[]): number[] {
  if (!fractions.length || fractions.some((f) => !(f > 0)))
    throw new Error(`Matryoshka group fractions must be positive (got ${fractions.join(', ')})`);
  const sum = fractions.reduce((s, f) => s + f, 0);
  if (Math.abs(sum - 1) > 1e-9) throw new Error(`Matryoshka group fractions must sum to 1 (got ${sum})`);
  const ends: number[] = [];
  let e = 0;
  for (let g = 0; g < fractions.length - 1; g++) {
    e += Math.floor(fractions[g] * m);
    ends.push(e);
  }
  ends.push(m);
  for (let g = 0; g < ends.length; g++)
    if (ends[g] <= (g ? ends[g - 1] : 0))
      throw new Error(
        `Matryoshka group ${g + 1} of ${m} features is empty (fractions ${fractions.join(', ')})`,
      );
  return ends;
}

export interface MatryoshkaResult {
  /** L_mat = (1/G) Σ_g L_g. */
  loss: number;
  /** [G] (1/N) Σ ‖x − x̂⁽ᵍ⁾‖² per prefix, without weights (for logging and α). */
  prefixRecon: number[];
  /** [N·d] x̂ of the whole dictionary (the last prefix). */
  xhat: Float64Array;
  /** [N·m] ∂L_mat/∂f (zero on padding rows). */
  gF: Float64Array;
  /** [m·d] ∂L_mat/∂W_dec through x̂ (the part the encoder's g_pre does not give). */
  gW_dec: Float64Array;
  /** [d] ∂L_mat/∂b_dec through x̂ (the encoder's −W_enc·Σg_pre part is added by the caller). */
  gb_dec: Float64Array;
}

export function matryoshkaLoss(
  x: ArrayLike<number>,
  f: ArrayLike<number>,
  W_dec: ArrayLike<number>,
  b_dec: ArrayLike<number>,
  N: number,
  d: number,
  m: number,
  valid: ArrayLike<number>,
  ends: number[],
  weights: number[],
): MatryoshkaResult {
  const G = ends.length;
  if (weights.length !== G) throw new Error(`Matryoshka: ${G} groups but ${weights.length} weights`);
  if (ends[G - 1] !== m) throw new Error(`Matryoshka: the last prefix must end at d_sae = ${m}`);
  let nValid = 0;
  for (let n = 0; n < N; n++) nValid += valid[n] ? 1 : 0;
  const inv = nValid > 0 ? 1 / nValid : 0;
  const xhat = new Float64Array(N * d);
  const gF = new Float64Array(N * m);
  const gW_dec = new Float64Array(m * d);
  const gb_dec = new Float64Array(d);
  const prefixRecon = new Array<number>(G).fill(0);
  // Per token: residuals of every prefix, then the cumulative C from the last group backwards.
  const r = new Float64Array(G * d);
  const C = new Float64Array(d);
  for (let n = 0; n < N; n++) {
    if (!valid[n]) {
      for (let j = 0; j < d; j++) xhat[n * d + j] = b_dec[j];
      continue;
    }
    const xh = xhat.subarray(n * d, (n + 1) * d);
    for (let j = 0; j < d; j++) xh[j] = b_dec[j];
    let i = 0;
    for (let g = 0; g < G; g++) {
      for (; i < ends[g]; i++) {
        const v = f[n * m + i];
        if (v !== 0) for (let j = 0; j < d; j++) xh[j] += v * W_dec[i * d + j];
      }
      let ss = 0;
      for (let j = 0; j < d; j++) {
        const e = xh[j] - x[n * d + j];
        r[g * d + j] = e;
        ss += e * e;
      }
      prefixRecon[g] += ss * inv;
    }
    C.fill(0);
    for (let g = G - 1; g >= 0; g--) {
      const c = (weights[g] / G) * 2 * inv;
      for (let j = 0; j < d; j++) C[j] += c * r[g * d + j];
      for (let q = g ? ends[g - 1] : 0; q < ends[g]; q++) {
        let v = 0;
        const fv = f[n * m + q];
        for (let j = 0; j < d; j++) {
          v += C[j] * W_dec[q * d + j];
          if (fv !== 0) gW_dec[q * d + j] += fv * C[j];
        }
        gF[n * m + q] = v;
      }
    }
    for (let j = 0; j < d; j++) gb_dec[j] += C[j];
  }
  let loss = 0;
  for (let g = 0; g < G; g++) loss += (weights[g] * prefixRecon[g]) / G;
  return { loss, prefixRecon, xhat, gF, gW_dec, gb_dec };
}
