// The parameter update (SPEC §3, §5): decoder-row gradient projection, Adam, row renormalization.
//
// 1. Projection (before the step): for each decoder row w_i, g_i ← g_i − (g_i·ŵ_i)ŵ_i with ŵ_i = w_i/‖w_i‖
//    (SAELens remove_gradient_parallel_to_decoder_directions). A row of norm 0 keeps its gradient.
// 2. Adam (Kingma & Ba 2015; torch.optim.Adam without weight decay), t = adam.step + 1:
//      m ← β1·m + (1 − β1)·g      v ← β2·v + (1 − β2)·g²
//      p ← p − lr · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)
// 3. Renormalization (after the step): w_i ← w_i/‖w_i‖ (rows of norm 0 are left as they are).
// grad_norm (StepMetrics) = ‖g‖₂ over every parameter of the projected gradient, i.e. exactly the
// gradient Adam consumes.
import type { TrainConfig } from '../config';
import { cloneParams, PARAM_NAMES, type RefAdam, type RefParams } from './state';

export type AdamConfig = Pick<TrainConfig, 'adam_beta1' | 'adam_beta2' | 'adam_eps'>;

/** Removes from each row of gW_dec its component along the row of W_dec. In place. */
export function projectDecoderGrad(W_dec: Float64Array, gW_dec: Float64Array, m: number, d: number): void {
  for (let i = 0; i < m; i++) {
    let ww = 0;
    let gw = 0;
    for (let j = 0; j < d; j++) {
      ww += W_dec[i * d + j] * W_dec[i * d + j];
      gw += gW_dec[i * d + j] * W_dec[i * d + j];
    }
    if (ww === 0) continue;
    const c = gw / ww;
    for (let j = 0; j < d; j++) gW_dec[i * d + j] -= c * W_dec[i * d + j];
  }
}

/** Scales each row of W_dec to unit norm. In place. */
export function renormDecoderRows(W_dec: Float64Array, m: number, d: number): void {
  for (let i = 0; i < m; i++) {
    let ww = 0;
    for (let j = 0; j < d; j++) ww += W_dec[i * d + j] * W_dec[i * d + j];
    if (ww === 0) continue;
    const inv = 1 / Math.sqrt(ww);
    for (let j = 0; j < d; j++) W_dec[i * d + j] *= inv;
  }
}

export function gradNorm(g: RefParams): number {
  let ss = 0;
  for (const k of PARAM_NAMES) {
    const a = g[k];
    if (a) for (let i = 0; i < a.length; i++) ss += a[i] * a[i];
  }
  return Math.sqrt(ss);
}

/** One bias-corrected Adam update. Pure: returns new parameters and moments. */
export function adamUpdate(
  params: RefParams,
  grads: RefParams,
  adam: RefAdam,
  lr: number,
  cfg: AdamConfig,
): { params: RefParams; adam: RefAdam } {
  const t = adam.step + 1;
  const b1 = cfg.adam_beta1;
  const b2 = cfg.adam_beta2;
  const bc1 = 1 - Math.pow(b1, t);
  const bc2 = 1 - Math.pow(b2, t);
  const p = cloneParams(params);
  const m = cloneParams(adam.m);
  const v = cloneParams(adam.v);
  for (const k of PARAM_NAMES) {
    const pk = p[k];
    const gk = grads[k];
    const mk = m[k];
    const vk = v[k];
    if (!pk || !gk || !mk || !vk) continue;
    for (let i = 0; i < pk.length; i++) {
      mk[i] = b1 * mk[i] + (1 - b1) * gk[i];
      vk[i] = b2 * vk[i] + (1 - b2) * gk[i] * gk[i];
      pk[i] -= (lr * (mk[i] / bc1)) / (Math.sqrt(vk[i] / bc2) + cfg.adam_eps);
    }
  }
  return { params: p, adam: { step: t, m, v } };
}
