// The temporal-SAE methods of issue 14 in float64, whole objective, gradient and step: the oracle for
// their GPU kernels and trainer. Composes the pieces, each with its own derivation and citation:
//   batchtopk            BatchTopK forward (batchTopk.ts), L = L_recon ('squared')
//   matryoshka_batchtopk BatchTopK forward, L = L_mat over nested prefixes (matryoshka.ts)
//   tsae                 Matryoshka BatchTopK + temp_alpha·L_nce on the first group (infonce.ts)
// and, for every method, the adaptive temporal penalty of SPEC §4 (λ2·α·L_temp, α from the full
// dictionary's L_recon, constant in backward; D_n and the start rules: tokens.ts):
//   loss = L_mat + λ2·α·L_temp + c_nce·L_nce         (L_mat = L_recon for plain BatchTopK)
//   ∂L/∂f = ∂L_mat/∂f + c_nce·∂L_nce/∂f + (λ2·α/N)(sign(D_n) − sign(D_next(n)))
//   g_pre = ∂L/∂f ⊙ active;  W_enc, b_enc, b_dec and the encoder part of W_dec as backward.ts.
// AuxK is not part of these methods here (the T-SAE code has one with its own normalization; left out
// and written down so a comparison is not silently different). The step order is step.ts's, plus the
// BatchTopK threshold update from the step's training f (batchTopk.ts).
import type { ActivationBatch } from '../../data/types';
import type { StepMetrics } from '../types';
import { updateAlpha } from '../alpha';
import type { TrainConfig } from '../config';
import type { ScheduleConfig } from '../schedule';
import type { AlphaConfig } from '../alpha';
import type { AdamConfig } from './optimizer';
import {
  batchTopkActive,
  batchTopkMinActive,
  updateBatchTopkThreshold,
  type BatchTopkThreshold,
} from './batchTopk';
import { referenceForward } from './forward';
import { adjacentPairs, infoNceLoss, type Similarity } from './infonce';
import { matryoshkaLoss } from './matryoshka';
import { firingCounters, nextState, projectAndUpdate, type RefStepResult } from './step';
import { zerosLike, type RefParams, type RefState, type RefWeights } from './state';
import { planTokens, type TokenPlan } from './tokens';

export type MethodName = 'batchtopk' | 'matryoshka_batchtopk' | 'tsae';

export interface MethodConfig {
  method: MethodName;
  /** Mean active features per token (k·N over the batch). */
  k: number;
  /** Prefix ends, ascending, last = d_sae ([d_sae] for plain BatchTopK). */
  prefix_ends: number[];
  /** One weight per prefix (matryoshka.ts). */
  prefix_weights: number[];
  /** temp_alpha of the contrastive term (tsae; 0 otherwise). */
  contrastive_coefficient: number;
  contrastive_temperature: number;
  contrastive_similarity: Similarity;
  /** BatchTopK threshold EMA: β and the step index after which it updates. */
  threshold_beta: number;
  threshold_start_step: number;
}

export type MethodTrainConfig = MethodConfig &
  Pick<TrainConfig, 'temporal_coefficient' | 'seq_start_mode'> &
  AlphaConfig &
  ScheduleConfig &
  AdamConfig;

export interface MethodLosses {
  /** (1/N) Σ‖x − x̂‖² of the whole dictionary (α's L_recon). */
  l_recon: number;
  /** [G] per-prefix reconstruction losses, unweighted. */
  prefix_recon: number[];
  l_mat: number;
  l_temp: number;
  l_nce: number;
  l0: number;
  loss: number;
}

export interface MethodObjective {
  pre: Float64Array;
  f: Float64Array;
  active: Uint8Array;
  xhat: Float64Array;
  plan: TokenPlan;
  losses: MethodLosses;
  grads: RefParams;
}

const sign = (v: number) => (v > 0 ? 1 : v < 0 ? -1 : 0);

/** Loss and raw gradient (before the decoder projection) with α given. */
export function methodObjective(
  w: RefWeights,
  batch: ActivationBatch,
  cfg: MethodTrainConfig,
  alpha: number,
  /** Tests only: a fixed active mask (finite differences must not move the selection). */
  fixedActive?: Uint8Array,
): MethodObjective {
  const d = w.d_in,
    m = w.d_sae,
    T = batch.T;
  const fwd = referenceForward(w, batch, { architecture: 'relu', k: cfg.k });
  const N = fwd.N;
  const plan = planTokens(batch, cfg.seq_start_mode);
  const active = fixedActive ?? batchTopkActive(fwd.pre, N, m, cfg.k, plan.valid);
  const f = new Float64Array(N * m);
  let count = 0;
  for (let k = 0; k < N * m; k++)
    if (active[k] && plan.valid[Math.floor(k / m)]) {
      f[k] = fwd.pre[k];
      count++;
    }
  const mat = matryoshkaLoss(
    batch.x,
    f,
    w.W_dec,
    w.b_dec,
    N,
    d,
    m,
    plan.valid,
    cfg.prefix_ends,
    cfg.prefix_weights,
  );
  const inv = plan.nValid > 0 ? 1 / plan.nValid : 0;
  const gF = mat.gF;
  // Adaptive temporal penalty (objective.ts / backward.ts).
  let temp = 0;
  const lamT = cfg.temporal_coefficient * alpha * inv;
  for (let n = 0; n < N; n++) {
    if (!plan.valid[n]) continue;
    const nextCompares = (n % T) + 1 < T && plan.hasPrev[n + 1] === 1;
    for (let i = 0; i < m; i++) {
      const fv = f[n * m + i];
      if (plan.hasD[n]) {
        const D = fv - (plan.hasPrev[n] ? f[(n - 1) * m + i] : 0);
        temp += Math.abs(D);
        gF[n * m + i] += lamT * sign(D);
      }
      if (nextCompares) gF[n * m + i] -= lamT * sign(f[(n + 1) * m + i] - fv);
    }
  }
  const l_temp = temp * inv;
  // Contrastive term on the first group.
  let l_nce = 0;
  if (cfg.contrastive_coefficient > 0) {
    const { cur, prev } = adjacentPairs(plan.hasPrev);
    const H = cfg.prefix_ends[0];
    const nce = infoNceLoss(f, m, H, cur, prev, cfg.contrastive_temperature, cfg.contrastive_similarity);
    l_nce = nce.loss;
    for (let k = 0; k < N * m; k++) gF[k] += cfg.contrastive_coefficient * nce.gF[k];
  }
  const loss = mat.loss + cfg.temporal_coefficient * alpha * l_temp + cfg.contrastive_coefficient * l_nce;
  // Parameter gradients (backward.ts).
  const g = zerosLike(w);
  g.W_dec.set(mat.gW_dec);
  g.b_dec.set(mat.gb_dec);
  const sumGpre = new Float64Array(m);
  const gpre = new Float64Array(m);
  for (let n = 0; n < N; n++) {
    if (!plan.valid[n]) continue;
    for (let i = 0; i < m; i++) gpre[i] = active[n * m + i] ? gF[n * m + i] : 0;
    for (let j = 0; j < d; j++) {
      const xv = fwd.xc[n * d + j];
      for (let i = 0; i < m; i++) g.W_enc[j * m + i] += xv * gpre[i];
    }
    for (let i = 0; i < m; i++) sumGpre[i] += gpre[i];
  }
  g.b_enc.set(sumGpre);
  for (let j = 0; j < d; j++) {
    let v = 0;
    for (let i = 0; i < m; i++) v += w.W_enc[j * m + i] * sumGpre[i];
    g.b_dec[j] -= v;
  }
  const G = cfg.prefix_ends.length;
  const losses: MethodLosses = {
    l_recon: mat.prefixRecon[G - 1],
    prefix_recon: mat.prefixRecon,
    l_mat: mat.loss,
    l_temp,
    l_nce,
    l0: count * inv,
    loss,
  };
  return { pre: fwd.pre, f, active, xhat: mat.xhat, plan, losses, grads: g };
}

export interface MethodStepResult {
  state: RefState;
  threshold: BatchTopkThreshold;
  objective: MethodObjective;
  alpha: number;
  l_max: number;
  grad_norm: number;
  lr: number;
}

/** One whole step (step.ts's order) and the BatchTopK threshold update. Pure. */
export function methodStep(
  state: RefState,
  threshold: BatchTopkThreshold,
  batch: ActivationBatch,
  cfg: MethodTrainConfig,
): MethodStepResult {
  const w = state.weights;
  const m = w.d_sae;
  if (!batch.valid.some((v) => v !== 0)) throw new Error('CPU reference: the batch has no valid token');
  const terms = methodObjective(w, batch, cfg, 0);
  const a = updateAlpha(state.alpha, terms.losses.l_recon, cfg);
  const objective = methodObjective(w, batch, cfg, a.alpha, terms.active);
  const { upd, grad_norm, lr } = projectAndUpdate(state, objective.grads, cfg);
  const { f, plan } = objective;
  const N = batch.S * batch.T;
  const tsf = firingCounters(state.tokens_since_fired, f, plan, m);
  // No update when nothing is active (SAELens update_topk_threshold: `if positive_mask.any()`).
  const th =
    state.step > cfg.threshold_start_step && objective.losses.l0 > 0
      ? updateBatchTopkThreshold(threshold, batchTopkMinActive(f, N, m, plan.valid), cfg.threshold_beta)
      : threshold;
  return {
    state: nextState(state, upd, a.state, plan.nValid, tsf),
    threshold: th,
    objective,
    alpha: a.alpha,
    l_max: a.l_max,
    grad_norm,
    lr,
  };
}

/**
 * The method config of a TrainConfig whose architecture is one of these methods (null for the others,
 * whose reference is step.ts's). BatchTopK as SAELens trains it (BatchTopKTrainingSAE): θ starts at 0
 * (the trainer's fresh state) and moves on every step, θ ← (1 − topk_threshold_lr)·θ + lr·v*.
 */
export function methodConfigFromTrain(cfg: TrainConfig): MethodTrainConfig | null {
  const sae = {
    k: cfg.k,
    threshold_beta: 1 - cfg.topk_threshold_lr,
    threshold_start_step: -1,
    contrastive_coefficient: 0,
    contrastive_temperature: 1,
    contrastive_similarity: 'cosine' as const,
  };
  switch (cfg.architecture) {
    case 'batchtopk':
      if (cfg.recon_loss !== 'squared')
        throw new Error(
          `CPU reference: BatchTopK is written for recon_loss 'squared' (got '${cfg.recon_loss}')`,
        );
      return { ...cfg, ...sae, method: 'batchtopk', prefix_ends: [cfg.d_sae], prefix_weights: [1] };
    case 'matryoshka_batchtopk':
    case 'tsae': {
      // Written out here, not asked of the registry (src/sae/architectures/matryoshka.ts, tsae.ts), so the
      // oracle checks the registry's prefixes and weights too: widths (d_sae appended, as SAELens), else
      // d_sae/8, /4, /2 (Matryoshka) or int(0.2·d_sae) (T-SAE); config weights c_g of Σ_g c_g·L_g, else 1
      // each (Matryoshka) or 0.1, 0.4 (T-SAE, 2 prefixes); matryoshka.ts's w_g = G·c_g.
      const tsae = cfg.architecture === 'tsae';
      const m = cfg.d_sae;
      const ends = cfg.matryoshka_widths.length
        ? [...cfg.matryoshka_widths]
        : tsae
          ? [Math.floor(0.2 * m)]
          : [Math.floor(m / 8), Math.floor(m / 4), Math.floor(m / 2)];
      if (ends[ends.length - 1] !== m) ends.push(m);
      const G = ends.length;
      const c = cfg.matryoshka_weights.length
        ? cfg.matryoshka_weights
        : tsae && G === 2
          ? [0.1, 0.4]
          : new Array<number>(G).fill(1);
      return {
        ...cfg,
        ...sae,
        method: cfg.architecture,
        prefix_ends: ends,
        prefix_weights: c.map((v) => v * G),
        contrastive_coefficient: tsae ? cfg.contrastive_coefficient : 0,
        contrastive_temperature: cfg.contrastive_temperature,
        contrastive_similarity: cfg.contrastive_similarity,
      };
    }
    default:
      return null;
  }
}

/**
 * referenceStep's result for a method architecture: methodStep with θ from the state's weights
 * (RefWeights.topk_threshold, 0 when absent), the new θ in the next state's weights, and the metrics in
 * StepMetrics form (l_sparse and l_aux are 0: these methods have neither).
 */
export function methodReferenceStep(
  state: RefState,
  batch: ActivationBatch,
  cfg: TrainConfig,
  mc: MethodTrainConfig,
): RefStepResult {
  const w = state.weights;
  const r = methodStep(state, { theta: w.topk_threshold ?? 0 }, batch, mc);
  const next: RefState = {
    ...r.state,
    weights: { ...r.state.weights, topk_threshold: r.threshold.theta ?? 0 },
  };
  const { objective: o } = r;
  const N = batch.S * batch.T,
    d = w.d_in;
  const xc = new Float64Array(N * d);
  for (let n = 0; n < N; n++) for (let j = 0; j < d; j++) xc[n * d + j] = batch.x[n * d + j] - w.b_dec[j];
  let dead_count = 0;
  for (const t of next.tokens_since_fired) if (t >= cfg.dead_feature_window) dead_count++;
  const L = o.losses;
  const metrics: StepMetrics = {
    step: next.step,
    tokens_seen: next.tokens_seen,
    l_recon: L.l_recon,
    l_sparse: 0,
    l_temp: L.l_temp,
    l_aux: 0,
    loss: L.loss,
    alpha: r.alpha,
    l_max: r.l_max,
    l0: L.l0,
    dead_count,
    grad_norm: r.grad_norm,
    lr: r.lr,
    // The trainer reports L_mat only for Matryoshka (finalize.wgsl: 0 for plain BatchTopK).
    l_mat: mc.method === 'batchtopk' ? 0 : L.l_mat,
    l_nce: L.l_nce,
  };
  return {
    state: next,
    metrics,
    grads: o.grads,
    objective: {
      fwd: { N, xc, pre: o.pre, f: o.f, active: o.active, xhat: o.xhat },
      plan: o.plan,
      auxk: { l_aux: 0, num_dead: 0, scale: 0, chosen: [], resid: new Float64Array(N * d) },
      losses: { l_recon: L.l_recon, l_sparse: 0, l_temp: L.l_temp, l_aux: 0, l0: L.l0, loss: L.loss },
    },
  };
}
