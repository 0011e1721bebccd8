// Exact re-parameterisations of an SAE that change the weights but not what it computes.
//
// Input scaling (SAELens `fold_activation_norm_scaling_factor`). A run that normalizes trains on
// x' = s·x. Its forward pass, written in the original units x:
//   pre = (s·x − b_dec)·W_enc + b_enc = (x − b_dec/s)·(s·W_enc) + b_enc
//   x̂   = (f·W_dec + b_dec)/s          = f·(W_dec/s) + b_dec/s
// so W_enc ← s·W_enc, W_dec ← W_dec/s, b_dec ← b_dec/s gives the same pre (hence the same f, the same
// JumpReLU/TopK decisions, thresholds unchanged) and x̂ in the original units. b_enc is unchanged.
//
// apply_b_dec_to_input = false (some pre-6 SAELens / sparsify-like SAEs compute pre = x·W_enc + b_enc):
//   x·W_enc + b_enc = (x − b_dec)·W_enc + (b_enc + b_dec·W_enc), so b_enc ← b_enc + b_dec·W_enc.
//
// Decoder-row norms (SAELens `fold_W_dec_norm`): with n_i = ‖W_dec[i]‖, W_dec[i] ← W_dec[i]/n_i,
// W_enc[:, i] ← n_i·W_enc[:, i], b_enc[i] ← n_i·b_enc[i], θ_i ← n_i·θ_i. Then pre_i and f_i scale by n_i
// and f_i·W_dec[i] is unchanged: exact for ReLU and JumpReLU. For TopK the ranking of pre can change,
// so it is exact only when the norms are equal. Our trainer keeps decoder rows at unit norm (SPEC §3),
// so imported SAEs are brought to that form before training further.
import type { SaeWeights } from '../sae/types';

function cloneWeights(w: SaeWeights): SaeWeights {
  return {
    d_in: w.d_in,
    d_sae: w.d_sae,
    W_enc: w.W_enc.slice(),
    b_enc: w.b_enc.slice(),
    W_dec: w.W_dec.slice(),
    b_dec: w.b_dec.slice(),
    ...(w.log_threshold ? { log_threshold: w.log_threshold.slice() } : {}),
    // BatchTopK's θ compares pre-activations, which folding leaves unchanged.
    ...(w.topk_threshold !== undefined ? { topk_threshold: w.topk_threshold } : {}),
  };
}

/** Weights that take unscaled x, from weights trained on s·x. */
export function foldInputScaling(w: SaeWeights, s: number): SaeWeights {
  const o = cloneWeights(w);
  if (s === 1) return o;
  for (let i = 0; i < o.W_enc.length; i++) o.W_enc[i] = w.W_enc[i] * s;
  for (let i = 0; i < o.W_dec.length; i++) o.W_dec[i] = w.W_dec[i] / s;
  for (let i = 0; i < o.b_dec.length; i++) o.b_dec[i] = w.b_dec[i] / s;
  return o;
}

/** The inverse of foldInputScaling: weights for s·x again (to train further with the same scaling). */
export function unfoldInputScaling(w: SaeWeights, s: number): SaeWeights {
  return foldInputScaling(w, 1 / s);
}

/** b_enc ← b_enc + b_dec·W_enc, for SAEs that do not subtract b_dec before encoding. */
export function foldBdecIntoBenc(w: SaeWeights): SaeWeights {
  const o = cloneWeights(w);
  const { d_in: d, d_sae: m } = w;
  for (let j = 0; j < d; j++) {
    const b = w.b_dec[j];
    if (b === 0) continue;
    const row = j * m;
    for (let i = 0; i < m; i++) o.b_enc[i] += b * w.W_enc[row + i];
  }
  return o;
}

/** Largest |‖W_dec[i]‖ − 1| over rows. */
export function maxDecoderNormError(w: SaeWeights): number {
  let worst = 0;
  for (let i = 0; i < w.d_sae; i++) {
    let ss = 0;
    for (let j = 0; j < w.d_in; j++) ss += w.W_dec[i * w.d_in + j] ** 2;
    worst = Math.max(worst, Math.abs(Math.sqrt(ss) - 1));
  }
  return worst;
}

/** Unit-norm decoder rows with the norms folded into the encoder (and θ). Zero rows are left as they are. */
export function foldDecoderNorms(w: SaeWeights): SaeWeights {
  const o = cloneWeights(w);
  const { d_in: d, d_sae: m } = w;
  for (let i = 0; i < m; i++) {
    let ss = 0;
    for (let j = 0; j < d; j++) ss += w.W_dec[i * d + j] ** 2;
    const n = Math.sqrt(ss);
    if (!(n > 0) || n === 1) continue;
    for (let j = 0; j < d; j++) {
      o.W_dec[i * d + j] = w.W_dec[i * d + j] / n;
      o.W_enc[j * m + i] = w.W_enc[j * m + i] * n;
    }
    o.b_enc[i] = w.b_enc[i] * n;
    if (o.log_threshold) o.log_threshold[i] = w.log_threshold![i] + Math.log(n);
  }
  return o;
}
