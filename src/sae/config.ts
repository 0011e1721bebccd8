// Every training hyperparameter in one place, each with a comment (nanoGPT style). Names follow
// SAELens where SAELens has the concept (d_in, d_sae, l1_coefficient, lr_warm_up_steps, …).
// Defaults are the method's (SPEC §1): λ1 0.04, λ2 0.02, β 5, μ 0.99, lr 3e-4, 2048 tokens per step.

import { architectureOf, ARCHITECTURE_IDS, isArchitecture } from './architectures';

/** The SAE architectures; each has its description in src/sae/architectures/ (how to add one: index.ts). */
export type Architecture = 'relu' | 'topk' | 'jumprelu' | 'batchtopk' | 'matryoshka_batchtopk' | 'tsae';
/** 'squared': mean over tokens of ‖x − x̂‖² (default); 'norm': mean of ‖x − x̂‖ (the published attempt). */
export type ReconLoss = 'squared' | 'norm';
/** At a sequence/document start: 'zero' compares with f_prev = 0 (the method); 'skip' drops that pair. */
export type SeqStartMode = 'zero' | 'skip';
/** 'max': a maximum that decays toward the current loss (the method); 'ema': plain moving average. */
export type LmaxMode = 'max' | 'ema';
/** 'absolute': σ(β(L_max − L_recon)) (the method); 'relative': divides the gap by L_max. */
export type AlphaMode = 'absolute' | 'relative';
export type LrSchedule = 'constant' | 'cosine';
/** T-SAE's InfoNCE similarity: cosine of the codes (the paper's text) or their dot product (its code). */
export type ContrastiveSimilarity = 'cosine' | 'dot';
export type Normalization = 'none' | 'expected_average_only_in';

export interface TrainConfig {
  // --- model ---
  architecture: Architecture;
  /** Activation width d. Set from the data. */
  d_in: number;
  /** Dictionary size m. */
  d_sae: number;
  /** TopK: active features per token; BatchTopK: mean active features per token (k·N over the batch). */
  k: number;
  /**
   * BatchTopK (SAELens BatchTopKTrainingSAEConfig.topk_threshold_lr): rate of the inference threshold's
   * moving average, θ ← (1 − lr)·θ + lr·(smallest active f of the step), from θ = 0; SAELens 0.01.
   */
  topk_threshold_lr: number;
  /**
   * Matryoshka BatchTopK and T-SAE (SAELens MatryoshkaBatchTopKTrainingSAEConfig.matryoshka_widths): the
   * ends of the nested prefixes of the dictionary, strictly increasing; d_sae is appended when the last is
   * smaller (as SAELens does). [] takes the architecture's default (src/sae/architectures/matryoshka.ts
   * d_sae/8, /4, /2; tsae.ts 0.2·d_sae).
   */
  matryoshka_widths: number[];
  /**
   * Matryoshka: weight c_g of each prefix's loss, L_mat = Σ_g c_g·L_g; [] the architecture's default
   * (1 each, SAELens's sum; T-SAE 0.1, 0.4: its code's group_weights [0.2, 0.8] under its mean over 2).
   */
  matryoshka_weights: number[];
  /** T-SAE (Bhalla et al. 2025; the code's temp_alpha): weight of the contrastive loss; 0 turns it off. */
  contrastive_coefficient: number;
  /** T-SAE: temperature τ of the InfoNCE logits sim/τ (the code has none: 1). */
  contrastive_temperature: number;
  /** T-SAE: similarity of adjacent tokens' high-level codes: 'cosine' (the paper) or 'dot' (the code). */
  contrastive_similarity: ContrastiveSimilarity;
  /** JumpReLU: initial threshold θ (stored as log θ). */
  jumprelu_init_threshold: number;
  /** JumpReLU: bandwidth ε of the rectangle kernel in the straight-through estimator. */
  jumprelu_bandwidth: number;

  // --- loss (SPEC §4) ---
  recon_loss: ReconLoss;
  /** λ1: sparsity coefficient (L1 for ReLU, L0 surrogate for JumpReLU, unused for TopK). */
  l1_coefficient: number;
  /** λ2: temporal coefficient. 0 gives a plain SAE (the control run). */
  temporal_coefficient: number;
  /** β: sharpness of α = σ(β·gap). */
  alpha_beta: number;
  /** μ: momentum of the L_max update. */
  lmax_momentum: number;
  lmax_mode: LmaxMode;
  alpha_mode: AlphaMode;
  seq_start_mode: SeqStartMode;
  /** TopK only: AuxK coefficient (Gao et al. 2024); 0 turns AuxK off. */
  aux_k_coefficient: number;
  /** TopK only: number of dead features AuxK reconstructs the residual with. */
  aux_k: number;

  // --- optimizer (SPEC §5) ---
  lr: number;
  adam_beta1: number;
  adam_beta2: number;
  adam_eps: number;
  lr_warm_up_steps: number;
  lr_schedule: LrSchedule;
  /** Cosine schedule decays to lr·lr_end_fraction at the end of the token budget. */
  lr_end_fraction: number;

  // --- batches (SPEC §2): N = seqs_per_batch × context_size tokens per step ---
  seqs_per_batch: number;
  context_size: number;
  /** Token budget of the run; steps = ceil(training_tokens / N). */
  training_tokens: number;
  /** Token ids that begin a new document inside a row (BOS / separator). */
  doc_start_token_ids: number[];
  /** Token id of padding, excluded from every loss and metric; null when the data has none. */
  pad_token_id: number | null;
  /** Input scaling like SAELens; the factor is estimated from the first batches and folded into exports. */
  normalize_activations: Normalization;

  // --- bookkeeping ---
  /** Every random choice of the run comes from this seed. */
  seed: number;
  /** A feature that has not fired for this many tokens counts as dead (SAELens dead_feature_window is in steps; we use tokens). */
  dead_feature_window: number;
  /** Read losses back every this many steps (readbacks are asynchronous and rare). */
  metrics_every: number;
  /** Evaluate on held-out sequences every this many steps (0: only at the end). */
  eval_every: number;
  /** Checkpoint every this many steps (0: only on pause/stop). */
  checkpoint_every: number;
}

export const DEFAULT_CONFIG: TrainConfig = {
  architecture: 'relu',
  d_in: 64,
  d_sae: 512,
  k: 32,
  topk_threshold_lr: 0.01,
  matryoshka_widths: [],
  matryoshka_weights: [],
  contrastive_coefficient: 0.1,
  contrastive_temperature: 1,
  contrastive_similarity: 'cosine',
  jumprelu_init_threshold: 0.001,
  jumprelu_bandwidth: 0.001,
  recon_loss: 'squared',
  l1_coefficient: 0.04,
  temporal_coefficient: 0.02,
  alpha_beta: 5.0,
  lmax_momentum: 0.99,
  lmax_mode: 'max',
  alpha_mode: 'absolute',
  seq_start_mode: 'zero',
  aux_k_coefficient: 1 / 32,
  aux_k: 256,
  lr: 3e-4,
  adam_beta1: 0.9,
  adam_beta2: 0.999,
  adam_eps: 1e-8,
  lr_warm_up_steps: 0,
  lr_schedule: 'constant',
  lr_end_fraction: 0.1,
  seqs_per_batch: 16,
  context_size: 128,
  training_tokens: 2048 * 2000,
  doc_start_token_ids: [],
  pad_token_id: null,
  normalize_activations: 'none',
  seed: 42,
  dead_feature_window: 1_000_000,
  metrics_every: 10,
  eval_every: 200,
  checkpoint_every: 500,
};

export function tokensPerStep(c: Pick<TrainConfig, 'seqs_per_batch' | 'context_size'>): number {
  return c.seqs_per_batch * c.context_size;
}

export function totalSteps(c: TrainConfig): number {
  return Math.max(1, Math.ceil(c.training_tokens / tokensPerStep(c)));
}

/** Problems with a config, in words; empty when it is valid. Size limits of the adapter are checked elsewhere. */
export function validateConfig(c: TrainConfig): string[] {
  const p: string[] = [];
  const posInt = (name: keyof TrainConfig) => {
    const v = c[name] as number;
    if (!Number.isInteger(v) || v <= 0) p.push(`${name} must be a positive integer (got ${v})`);
  };
  for (const n of ['d_in', 'd_sae', 'seqs_per_batch', 'context_size', 'training_tokens'] as const) posInt(n);
  if (!isArchitecture(c.architecture))
    p.push(`architecture must be one of ${ARCHITECTURE_IDS.join(', ')} (got ${String(c.architecture)})`);
  else p.push(...architectureOf(c).validate(c));
  for (const n of [
    'l1_coefficient',
    'temporal_coefficient',
    'alpha_beta',
    'lr',
    'aux_k_coefficient',
    'contrastive_coefficient',
  ] as const)
    if (!(c[n] >= 0) || !Number.isFinite(c[n])) p.push(`${n} must be a finite number ≥ 0 (got ${c[n]})`);
  if (!(c.lmax_momentum >= 0 && c.lmax_momentum < 1)) p.push(`lmax_momentum must be in [0, 1)`);
  if (!(c.adam_beta1 >= 0 && c.adam_beta1 < 1)) p.push(`adam_beta1 must be in [0, 1)`);
  if (!(c.adam_beta2 >= 0 && c.adam_beta2 < 1)) p.push(`adam_beta2 must be in [0, 1)`);
  if (!(c.topk_threshold_lr > 0 && c.topk_threshold_lr <= 1))
    p.push(`topk_threshold_lr must be in (0, 1] (got ${c.topk_threshold_lr})`);
  if (!(c.jumprelu_bandwidth > 0)) p.push(`jumprelu_bandwidth must be > 0`);
  if (!(c.jumprelu_init_threshold > 0)) p.push(`jumprelu_init_threshold must be > 0`);
  if (!Number.isInteger(c.seed) || c.seed < 0 || c.seed > 0xffffffff)
    p.push(`seed must be an integer in 0..2^32−1`);
  return p;
}
