// TopK auxiliary loss, AuxK (Gao et al. 2024, "Scaling and evaluating sparse autoencoders", §A.2 / B.1),
// with the scaling SAELens applies in TopKTrainingSAE.calculate_topk_aux_loss. Precisely:
//
//   dead_i    = tokens_since_fired_i ≥ dead_feature_window     (counters as they were BEFORE this step,
//               as SAELens builds dead_neuron_mask before the forward pass)
//   num_dead  = Σ_i dead_i;   if num_dead = 0 or the coefficient is 0: L_aux = 0
//   k_aux     = min(aux_k, num_dead);   scale = min(num_dead / aux_k, 1)   (SAELens: fewer dead → smaller)
//   per valid token n: A_n = the k_aux largest pre_ni over dead i (ties to the lower index);
//               f_aux_ni = pre_ni for i ∈ A_n (raw, may be negative, as SAELens), else 0
//   e_n       = x_n − x̂_n, a constant (stop-gradient: the residual of the live TopK reconstruction)
//   ê_n       = f_aux_n · W_dec        (no b_dec: Gao et al. reconstruct the residual with W_dec alone;
//                                       SAELens's decode() adds b_dec here, which we consider a slip)
//   L_aux     = scale · (1/N) Σ_n ‖ê_n − e_n‖²
//   total loss adds aux_k_coefficient · L_aux  (StepMetrics.l_aux is L_aux without the coefficient).
// Gradients: g_ê_n = aux_k_coefficient·scale·(2/N)(ê_n − e_n); ∂W_dec_i += Σ_n f_aux_ni g_ê_n;
// ∂pre_ni += g_ê_n · W_dec_i for i ∈ A_n (then into W_enc, b_enc, b_dec like any g_pre).
import type { TrainConfig } from '../config';
import type { RefForward } from './forward';
import { topkIndices } from './forward';
import type { RefWeights } from './state';
import type { TokenPlan } from './tokens';

export type AuxkConfig = Pick<
  TrainConfig,
  'architecture' | 'aux_k' | 'aux_k_coefficient' | 'dead_feature_window'
>;

export interface RefAuxk {
  /** L_aux without the coefficient (0 when off or nothing is dead). */
  l_aux: number;
  num_dead: number;
  scale: number;
  /** Per token: the chosen dead features A_n (empty for padding or when off). */
  chosen: number[][];
  /** [N·d] ê_n − e_n (zeros where unused). */
  resid: Float64Array;
}

export function auxkEnabled(cfg: AuxkConfig): boolean {
  return cfg.architecture === 'topk' && cfg.aux_k_coefficient > 0 && cfg.aux_k > 0;
}

export function referenceAuxk(
  w: RefWeights,
  x: ArrayLike<number>,
  fwd: RefForward,
  plan: TokenPlan,
  tokensSinceFired: ArrayLike<number>,
  cfg: AuxkConfig,
  /** [N·d] e = x − x̂ to use instead of this forward pass's (tests freeze it to check the stop-gradient). */
  residual?: ArrayLike<number>,
): RefAuxk {
  const d = w.d_in;
  const m = w.d_sae;
  const N = fwd.N;
  const chosen: number[][] = Array.from({ length: N }, () => []);
  const resid = new Float64Array(N * d);
  const dead: number[] = [];
  if (auxkEnabled(cfg))
    for (let i = 0; i < m; i++) if (tokensSinceFired[i] >= cfg.dead_feature_window) dead.push(i);
  const num_dead = dead.length;
  if (num_dead === 0 || plan.nValid === 0) return { l_aux: 0, num_dead, scale: 0, chosen, resid };
  const kAux = Math.min(cfg.aux_k, num_dead);
  const scale = Math.min(num_dead / cfg.aux_k, 1);
  let sum = 0;
  for (let n = 0; n < N; n++) {
    if (!plan.valid[n]) continue;
    const pre = fwd.pre.subarray(n * m, (n + 1) * m);
    const A = topkIndices(pre, kAux, dead);
    chosen[n] = A;
    for (let j = 0; j < d; j++) {
      let ehat = 0;
      for (const i of A) ehat += pre[i] * w.W_dec[i * d + j];
      const e = residual ? residual[n * d + j] : x[n * d + j] - fwd.xhat[n * d + j];
      const r = ehat - e;
      resid[n * d + j] = r;
      sum += r * r;
    }
  }
  return { l_aux: (scale * sum) / plan.nValid, num_dead, scale, chosen, resid };
}
