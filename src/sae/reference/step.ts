// One whole training step of the adaptive temporal SAE in float64: the oracle the GPU trainer is
// tested against (whole step and many steps). Order of operations (the GPU does the same):
//   1. forward, every loss term                       (forward.ts, objective.ts; AuxK: counters before step)
//   2. L_max and α from this step's L_recon            (../alpha.ts; α is then a constant)
//   3. total loss with that α                          (objective.ts)
//   4. gradients with α constant                       (backward.ts)
//   5. decoder-row projection, grad_norm               (optimizer.ts)
//   6. Adam with lr = lrAt(step), renormalize W_dec rows
//   7. dead-feature counters: += valid tokens of the batch, then 0 for every feature that fired
//      (f ≠ 0) on a valid token of this batch; dead_count counts tokens_since_fired ≥ dead_feature_window
//      after this update.
// Metrics: step = state.step + 1 (steps done including this one); tokens_seen += valid tokens;
// lr = the rate used; loss terms, α, L_max, l0 of this batch's forward pass BEFORE the update.
import type { ActivationBatch } from '../../data/types';
import { updateAlpha } from '../alpha';
import type { TrainConfig } from '../config';
import { lrAt } from '../schedule';
import type { StepMetrics } from '../types';
import { referenceBackward } from './backward';
import { methodConfigFromTrain, methodReferenceStep } from './methods';
import { referenceObjective, withAlpha, type RefObjective } from './objective';
import { adamUpdate, gradNorm, projectDecoderGrad, renormDecoderRows } from './optimizer';
import type { RefParams, RefState } from './state';
import type { TokenPlan } from './tokens';

export interface RefStepResult {
  /** The state after the step (the input state is not modified). */
  state: RefState;
  metrics: StepMetrics;
  /** The gradient Adam consumed (after the decoder-row projection). */
  grads: RefParams;
  /** Forward pass, token plan, AuxK selection and loss terms of the step (before the update). */
  objective: RefObjective;
}

/** Steps 5–6: decoder-row projection of `grads` (in place), grad_norm, Adam at lrAt(step), renorm. */
export function projectAndUpdate(
  state: RefState,
  grads: RefParams,
  cfg: Parameters<typeof lrAt>[1] & Parameters<typeof adamUpdate>[4],
) {
  const w = state.weights;
  projectDecoderGrad(w.W_dec, grads.W_dec, w.d_sae, w.d_in);
  const grad_norm = gradNorm(grads);
  const lr = lrAt(state.step, cfg);
  const upd = adamUpdate(w, grads, state.adam, lr, cfg);
  renormDecoderRows(upd.params.W_dec, w.d_sae, w.d_in);
  return { upd, grad_norm, lr };
}

/** Step 7: counters += valid tokens, then 0 for every feature that fired on a valid token. */
export function firingCounters(
  before: ArrayLike<number>,
  f: ArrayLike<number>,
  plan: TokenPlan,
  m: number,
): Float64Array {
  const tsf = Float64Array.from(before);
  for (let i = 0; i < m; i++) tsf[i] += plan.nValid;
  for (let n = 0; n < plan.valid.length; n++) {
    if (!plan.valid[n]) continue;
    for (let i = 0; i < m; i++) if (f[n * m + i] !== 0) tsf[i] = 0;
  }
  return tsf;
}

/** The state after a step from its pieces. */
export function nextState(
  state: RefState,
  upd: ReturnType<typeof adamUpdate>,
  alpha: RefState['alpha'],
  nValid: number,
  tsf: Float64Array,
): RefState {
  const { d_in, d_sae } = state.weights;
  return {
    step: state.step + 1,
    tokens_seen: state.tokens_seen + nValid,
    weights: { d_in, d_sae, ...upd.params },
    adam: upd.adam,
    alpha,
    tokens_since_fired: tsf,
  };
}

export function referenceStep(state: RefState, batch: ActivationBatch, cfg: TrainConfig): RefStepResult {
  // The temporal-SAE methods of issue 14 (BatchTopK, …) have their own whole step (methods.ts).
  const method = methodConfigFromTrain(cfg);
  if (method) return methodReferenceStep(state, batch, cfg, method);
  const w = state.weights;
  const d = w.d_in;
  const m = w.d_sae;
  if (cfg.d_in !== d || cfg.d_sae !== m)
    throw new Error(`CPU reference: config is ${cfg.d_in}×${cfg.d_sae}, the state's weights ${d}×${m}`);
  // A step on nothing would set L_max from an empty mean; the batcher never makes such a batch.
  if (!batch.valid.some((v) => v !== 0)) throw new Error('CPU reference: the batch has no valid token');
  // 1–3: forward and the loss terms (none depends on α), then L_max and α from this step's L_recon.
  const terms = referenceObjective(w, batch, cfg, 0, state.tokens_since_fired);
  const a = updateAlpha(state.alpha, terms.losses.l_recon, cfg);
  const objective = withAlpha(terms, cfg, a.alpha);
  // 4
  const grads = referenceBackward(w, batch, cfg, a.alpha, objective);
  // 5–6
  const { upd, grad_norm, lr } = projectAndUpdate(state, grads, cfg);
  // 7
  const { fwd, plan } = objective;
  const tsf = firingCounters(state.tokens_since_fired, fwd.f, plan, m);
  let dead_count = 0;
  for (let i = 0; i < m; i++) if (tsf[i] >= cfg.dead_feature_window) dead_count++;

  const next = nextState(state, upd, a.state, plan.nValid, tsf);
  const L = objective.losses;
  const metrics: StepMetrics = {
    step: next.step,
    tokens_seen: next.tokens_seen,
    l_recon: L.l_recon,
    l_sparse: L.l_sparse,
    l_temp: L.l_temp,
    l_aux: L.l_aux,
    loss: L.loss,
    alpha: a.alpha,
    l_max: a.l_max,
    l0: L.l0,
    dead_count,
    grad_norm,
    lr,
    l_mat: 0, // Matryoshka and T-SAE only (methods.ts)
    l_nce: 0,
  };
  return { state: next, metrics, grads, objective };
}
