// The loss of one batch with α held fixed (SPEC §4). Pure: no state is changed.
//
//   L_recon  = (1/N) Σ_n ‖x_n − x̂_n‖²  ('squared')   or  (1/N) Σ_n ‖x_n − x̂_n‖  ('norm')
//   L_sparse = (1/N) Σ_n ‖f_n‖₁ (ReLU);  (1/N) Σ_n #{i: pre_ni > θ_i} (JumpReLU L0);  0 (TopK)
//   L_temp   = (1/N) Σ_{n with D_n} ‖D_n‖₁        (D_n and the start/padding rules: tokens.ts)
//   loss     = L_recon + λ1·L_sparse + λ2·α·L_temp + aux_k_coefficient·L_aux (TopK with AuxK on)
// N = number of VALID tokens (padding excluded from numerator and denominator alike).
import type { ActivationBatch } from '../../data/types';
import type { TrainConfig } from '../config';
import { referenceAuxk, type RefAuxk } from './auxk';
import { referenceForward, type RefForward } from './forward';
import type { RefWeights } from './state';
import { planTokens, type TokenPlan } from './tokens';

export interface RefLosses {
  l_recon: number;
  l_sparse: number;
  l_temp: number;
  /** AuxK loss without its coefficient. */
  l_aux: number;
  /** Mean number of active features per valid token. */
  l0: number;
  /** Total loss with the α given. */
  loss: number;
}

export interface RefObjective {
  fwd: RefForward;
  plan: TokenPlan;
  auxk: RefAuxk;
  losses: RefLosses;
}

/** L_recon of a forward pass (needed before α can be computed). */
export function reconLoss(
  x: ArrayLike<number>,
  fwd: RefForward,
  plan: TokenPlan,
  d: number,
  mode: TrainConfig['recon_loss'],
): number {
  if (plan.nValid === 0) return 0;
  let sum = 0;
  for (let n = 0; n < fwd.N; n++) {
    if (!plan.valid[n]) continue;
    let ss = 0;
    for (let j = 0; j < d; j++) {
      const r = fwd.xhat[n * d + j] - x[n * d + j];
      ss += r * r;
    }
    sum += mode === 'squared' ? ss : Math.sqrt(ss);
  }
  return sum / plan.nValid;
}

/** loss = L_recon + λ1·L_sparse + λ2·α·L_temp (+ aux_k_coefficient·L_aux when AuxK is active). */
export function totalLoss(
  t: Omit<RefLosses, 'loss' | 'l0'>,
  auxActive: boolean,
  cfg: Pick<TrainConfig, 'l1_coefficient' | 'temporal_coefficient' | 'aux_k_coefficient'>,
  alpha: number,
): number {
  return (
    t.l_recon +
    cfg.l1_coefficient * t.l_sparse +
    cfg.temporal_coefficient * alpha * t.l_temp +
    (auxActive ? cfg.aux_k_coefficient * t.l_aux : 0)
  );
}

/** The same objective with another α (the terms do not depend on α; only the total does). */
export function withAlpha(obj: RefObjective, cfg: TrainConfig, alpha: number): RefObjective {
  return {
    ...obj,
    losses: { ...obj.losses, loss: totalLoss(obj.losses, obj.auxk.num_dead > 0, cfg, alpha) },
  };
}

/**
 * Forward pass and every loss term with α fixed. `tokensSinceFired` (counters before the step) only
 * matters for TopK AuxK.
 */
export function referenceObjective(
  w: RefWeights,
  batch: ActivationBatch,
  cfg: TrainConfig,
  alpha: number,
  tokensSinceFired: ArrayLike<number>,
  /** Tests only: a frozen AuxK residual e (see auxk.ts). */
  auxResidual?: ArrayLike<number>,
): RefObjective {
  const m = w.d_sae;
  const fwd = referenceForward(w, batch, cfg);
  const plan = planTokens(batch, cfg.seq_start_mode);
  const auxk = referenceAuxk(w, batch.x, fwd, plan, tokensSinceFired, cfg, auxResidual);
  const N = plan.nValid;
  const inv = N > 0 ? 1 / N : 0;
  const l_recon = reconLoss(batch.x, fwd, plan, w.d_in, cfg.recon_loss);
  let l1 = 0;
  let count = 0;
  let temp = 0;
  for (let n = 0; n < fwd.N; n++) {
    if (!plan.valid[n]) continue;
    for (let i = 0; i < m; i++) {
      const fv = fwd.f[n * m + i];
      l1 += Math.abs(fv);
      count += fwd.active[n * m + i];
      if (plan.hasD[n]) temp += Math.abs(fv - (plan.hasPrev[n] ? fwd.f[(n - 1) * m + i] : 0));
    }
  }
  const l_sparse = cfg.architecture === 'relu' ? l1 * inv : cfg.architecture === 'jumprelu' ? count * inv : 0;
  const l_temp = temp * inv;
  const terms = { l_recon, l_sparse, l_temp, l_aux: auxk.l_aux, l0: count * inv };
  const losses = { ...terms, loss: totalLoss(terms, auxk.num_dead > 0, cfg, alpha) };
  return { fwd, plan, auxk, losses };
}
