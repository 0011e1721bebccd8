// The float64 CPU reference of one training step of the adaptive temporal SAE (SPEC §2–5): the oracle
// the WGSL trainer is tested against. Plain TypeScript, no GPU, no randomness (init comes from
// ../init.ts, shared with the GPU trainer so both start from identical float32 weights).
//
// Public API
//   initRefState(w: SaeWeights): RefState               state before step 1 (w from initWeights)
//   refStateFromTrainer(s: TrainerState): RefState       float32 → float64 (e.g. to continue a GPU run)
//   trainerStateFromRef(s: RefState): TrainerState       float64 → float32
//   refWeightsFromSae / saeWeightsFromRef                the same for weights alone
//   paramsToF32 / paramsToF64 / cloneParams / zerosLike  the same for bare parameter sets (Adam moments)
//   referenceStep(state, batch, cfg): { state, metrics: StepMetrics, grads, objective }
//       one whole step; pure (the input state is not modified). `grads` is the projected gradient
//       Adam consumed; `objective` holds pre, f, active, x̂, the token plan, AuxK choice, loss terms.
//   referenceForward(w, batch, cfg): RefForward          pre, f, active, x̂ (all rows, padding too)
//   referenceObjective(w, batch, cfg, alpha, tokensSinceFired): RefObjective   losses, α fixed
//   referenceBackward(w, batch, cfg, alpha, objective): RefParams   raw gradient (before projection)
//   planTokens(batch, seq_start_mode): TokenPlan         which tokens count, which pairs are compared
//   topkIndices(row, k, candidates?)                     TopK selection with the tie rule
//   projectDecoderGrad, renormDecoderRows, adamUpdate, gradNorm   the update, piece by piece
//   methodObjective / methodStep (methods.ts)           BatchTopK, Matryoshka BatchTopK, T-SAE (issue 14),
//       from batchTopk.ts (selection, threshold), matryoshka.ts (prefix losses), infonce.ts (contrastive)
//
// Choices the GPU trainer must share (each is explained where it is implemented):
//   - N = number of VALID tokens; padding is in no loss, count, gradient or firing statistic.  tokens.ts
//   - a valid token is a start at t = 0, where batch.start = 1, or after a padding token.      tokens.ts
//   - TopK ties go to the lower feature index; f = pre only if also pre > 0.                   forward.ts
//   - JumpReLU active ⇔ pre > θ (strict); rectangle kernel K(u) = 1[|u| < ½].          forward/backward.ts
//   - AuxK: dead = tokens_since_fired ≥ dead_feature_window before the step; ê = f_aux·W_dec (no b_dec);
//     SAELens's scale min(num_dead/aux_k, 1); l_aux reported without its coefficient.           auxk.ts
//   - α from this step's L_recon, constant in backward.                                   ../alpha.ts
//   - grad_norm = ‖projected gradient‖₂ over all parameters.                               optimizer.ts
//   - counters: += valid tokens, reset on any firing (f ≠ 0) in the batch; dead_count after update. step.ts
//   - metrics.step = steps done incl. this one; tokens_seen counts valid tokens; lr = lrAt(step before).
export { referenceStep, type RefStepResult } from './step';
export { referenceForward, topkIndices, type RefForward } from './forward';
export {
  referenceObjective,
  reconLoss,
  totalLoss,
  withAlpha,
  type RefLosses,
  type RefObjective,
} from './objective';
export { referenceBackward } from './backward';
export { referenceAuxk, auxkEnabled, type RefAuxk } from './auxk';
export { planTokens, type TokenPlan } from './tokens';
export { adamUpdate, gradNorm, projectDecoderGrad, renormDecoderRows } from './optimizer';
export {
  methodObjective,
  methodStep,
  type MethodConfig,
  type MethodName,
  type MethodTrainConfig,
} from './methods';
export {
  cloneParams,
  initRefState,
  paramsToF32,
  paramsToF64,
  refStateFromTrainer,
  refWeightsFromSae,
  saeWeightsFromRef,
  trainerStateFromRef,
  zerosLike,
  PARAM_NAMES,
  type ParamName,
  type RefAdam,
  type RefParams,
  type RefState,
  type RefWeights,
} from './state';
