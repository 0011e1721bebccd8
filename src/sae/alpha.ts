// The adaptive temporal coefficient α and its moving maximum L_max (SPEC §4).
//
//   first step:  L_max = L_recon
//   'max':       L_max ← max(L_recon, μ·L_max + (1 − μ)·L_recon)   (a maximum decaying toward L_recon)
//   'ema':       L_max ← μ·L_max + (1 − μ)·L_recon
//   'absolute':  α = σ(β·(L_max − L_recon))
//   'relative':  α = σ(β·(L_max − L_recon)/L_max)   (gap taken as 0 when L_max ≤ 0, so α = ½)
//
// α is a coefficient, not a path for gradients: the trainer computes it from the step's L_recon and holds
// it constant in the backward pass. With 'max', L_max ≥ L_recon after the update, so α ∈ [½, 1) — this
// is a property of the method, shown in the UI, not hidden.
import type { TrainConfig } from './config';
import type { AlphaState } from './types';

export type AlphaConfig = Pick<TrainConfig, 'alpha_beta' | 'lmax_momentum' | 'lmax_mode' | 'alpha_mode'>;

export interface AlphaUpdate {
  state: AlphaState;
  alpha: number;
  l_max: number;
}

/** Numerically stable logistic σ(z). */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** One L_max update followed by α, once per step, before the backward pass. Pure. */
export function updateAlpha(state: AlphaState, l_recon: number, cfg: AlphaConfig): AlphaUpdate {
  const mu = cfg.lmax_momentum;
  let l_max: number;
  if (state.l_max === null) l_max = l_recon;
  else {
    const decayed = mu * state.l_max + (1 - mu) * l_recon;
    l_max = cfg.lmax_mode === 'max' ? Math.max(l_recon, decayed) : decayed;
  }
  let gap = l_max - l_recon;
  if (cfg.alpha_mode === 'relative') gap = l_max > 0 ? gap / l_max : 0;
  return { state: { l_max }, alpha: sigmoid(cfg.alpha_beta * gap), l_max };
}
