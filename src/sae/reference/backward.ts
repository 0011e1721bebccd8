// Gradients of the loss with α held constant (SPEC §5). Shapes: g_x̂ [N, d], ∂L/∂f and g_pre [N, m].
//
//   g_x̂_n    = (2/N)(x̂_n − x_n)                       'squared'
//            = (1/N)(x̂_n − x_n)/‖x̂_n − x_n‖           'norm' (0 when x̂_n = x_n: a subgradient)
//   ∂L/∂f_n  = g_x̂_n·W_decᵀ + (λ1/N)·sign(f_n) [ReLU only]
//            + (λ2·α/N)·(sign(D_n)·[D_n exists] − sign(D_{n+1})·[D_{n+1} exists and compares with f_n])
//   g_pre    = ∂L/∂f ⊙ active   (+ AuxK's g_pre for TopK, see auxk.ts)
//   ∂W_dec   = fᵀ·g_x̂ (+ AuxK)     ∂W_enc = (x − b_dec)ᵀ·g_pre     ∂b_enc = Σ_n g_pre_n
//   ∂b_dec   = Σ_n g_x̂_n − W_enc·Σ_n g_pre_n
// sign(0) = 0. Padding rows have g_x̂ = 0 and ∂L/∂f = 0.
//
// JumpReLU threshold (Rajamanoharan et al. 2024, "Jumping Ahead", eqs. 11–12; SAELens jumprelu_sae.py
// Step/JumpReLU.backward, rectangle(u) = (u > −½) & (u < ½), forward x > threshold):
// straight-through pseudo-derivatives with the rectangle kernel K(u) = 1[|u| < ½] and bandwidth ε,
//   ð f_ni/ð θ_i          = −(θ_i/ε)·K((pre_ni − θ_i)/ε)        (JumpReLU)
//   ð H(pre_ni − θ_i)/ð θ_i = −(1/ε)·K((pre_ni − θ_i)/ε)       (the L0 term)
// and no gradient to pre through H (f passes ∂L/∂f to pre only where active). So
//   ∂L/∂θ_i = Σ_n [∂L/∂f_ni·(−(θ_i/ε)K_ni)] + (λ1/N)·Σ_n (−(1/ε)K_ni)    (valid n only)
//   ∂L/∂log θ_i = θ_i · ∂L/∂θ_i                                         (θ = exp(log θ))
// where ∂L/∂f_ni is the full value above (reconstruction + temporal; JumpReLU has no L1 term).
import type { ActivationBatch } from '../../data/types';
import type { TrainConfig } from '../config';
import type { RefObjective } from './objective';
import { zerosLike, type RefParams, type RefWeights } from './state';

const sign = (v: number) => (v > 0 ? 1 : v < 0 ? -1 : 0);

/** The raw gradient of referenceObjective's loss (before the decoder-row projection). */
export function referenceBackward(
  w: RefWeights,
  batch: ActivationBatch,
  cfg: TrainConfig,
  alpha: number,
  obj: RefObjective,
): RefParams {
  const d = w.d_in;
  const m = w.d_sae;
  const { fwd, plan, auxk } = obj;
  const N = fwd.N;
  const T = batch.T;
  const inv = plan.nValid > 0 ? 1 / plan.nValid : 0;
  const g = zerosLike(w);
  const gx = new Float64Array(N * d);
  const gpre = new Float64Array(N * m);
  const gthetaSum = cfg.architecture === 'jumprelu' ? new Float64Array(m) : null;
  const theta = w.log_threshold ? Array.from(w.log_threshold, Math.exp) : [];
  const eps = cfg.jumprelu_bandwidth;
  const lam1 = cfg.l1_coefficient;
  const lamT = cfg.temporal_coefficient * alpha * inv;
  const df = new Float64Array(m);

  for (let n = 0; n < N; n++) {
    if (!plan.valid[n]) continue;
    // g_x̂
    let ss = 0;
    for (let j = 0; j < d; j++) {
      const r = fwd.xhat[n * d + j] - batch.x[n * d + j];
      gx[n * d + j] = r;
      ss += r * r;
    }
    const c = cfg.recon_loss === 'squared' ? 2 * inv : ss > 0 ? inv / Math.sqrt(ss) : 0;
    for (let j = 0; j < d; j++) gx[n * d + j] *= c;

    // ∂L/∂f_n
    const nextCompares = (n % T) + 1 < T && plan.hasPrev[n + 1] === 1;
    for (let i = 0; i < m; i++) {
      let v = 0;
      for (let j = 0; j < d; j++) v += gx[n * d + j] * w.W_dec[i * d + j];
      const fv = fwd.f[n * m + i];
      if (cfg.architecture === 'relu') v += lam1 * inv * sign(fv);
      if (plan.hasD[n]) v += lamT * sign(fv - (plan.hasPrev[n] ? fwd.f[(n - 1) * m + i] : 0));
      if (nextCompares) v -= lamT * sign(fwd.f[(n + 1) * m + i] - fv);
      df[i] = v;
      if (fwd.active[n * m + i]) gpre[n * m + i] = v;
      if (gthetaSum) {
        const u = (fwd.pre[n * m + i] - theta[i]) / eps;
        if (Math.abs(u) < 0.5) gthetaSum[i] += -(theta[i] / eps) * v - (lam1 * inv) / eps;
      }
    }
  }

  // AuxK (TopK): g_ê = coef·scale·(2/N)·(ê − e), through the chosen dead features' pre and W_dec rows.
  if (auxk.num_dead > 0) {
    const c = cfg.aux_k_coefficient * auxk.scale * 2 * inv;
    for (let n = 0; n < N; n++) {
      for (const i of auxk.chosen[n]) {
        const p = fwd.pre[n * m + i];
        let v = 0;
        for (let j = 0; j < d; j++) {
          const ge = c * auxk.resid[n * d + j];
          v += ge * w.W_dec[i * d + j];
          g.W_dec[i * d + j] += p * ge;
        }
        gpre[n * m + i] += v;
      }
    }
  }

  // Parameter gradients from g_x̂ and g_pre.
  const sumGpre = new Float64Array(m);
  for (let n = 0; n < N; n++) {
    for (let i = 0; i < m; i++) {
      const fv = fwd.f[n * m + i];
      if (fv !== 0) for (let j = 0; j < d; j++) g.W_dec[i * d + j] += fv * gx[n * d + j];
    }
    for (let j = 0; j < d; j++) {
      g.b_dec[j] += gx[n * d + j];
      const xv = fwd.xc[n * d + j];
      for (let i = 0; i < m; i++) g.W_enc[j * m + i] += xv * gpre[n * m + i];
    }
    for (let i = 0; i < m; i++) sumGpre[i] += gpre[n * m + i];
  }
  g.b_enc.set(sumGpre);
  for (let j = 0; j < d; j++) {
    let v = 0;
    for (let i = 0; i < m; i++) v += w.W_enc[j * m + i] * sumGpre[i];
    g.b_dec[j] -= v;
  }
  if (gthetaSum && g.log_threshold) for (let i = 0; i < m; i++) g.log_threshold[i] = theta[i] * gthetaSum[i];
  return g;
}
