// Plain data that crosses module boundaries: weights, optimizer state, per-step metrics.
// Shapes in comments; all matrices row-major float32.

export interface SaeWeights {
  d_in: number;
  d_sae: number;
  W_enc: Float32Array; // [d_in, d_sae]
  b_enc: Float32Array; // [d_sae]
  W_dec: Float32Array; // [d_sae, d_in], rows unit norm
  b_dec: Float32Array; // [d_in]
  /** JumpReLU only: log θ per feature [d_sae] (exported as threshold = exp(log_threshold)). */
  log_threshold?: Float32Array;
  /**
   * BatchTopK-family only (GpuRecipe.activation 'batchtopk'): the one inference threshold θ, f = pre·H(pre − θ)
   * outside training (a trainer state moved each step, not a trained parameter; exported as SAELens
   * JumpReLU threshold = θ for every feature). Absent: 0.
   */
  topk_threshold?: number;
}

/** Adam moments for each parameter, same shapes as the parameters. */
export interface AdamState {
  step: number;
  m: Omit<SaeWeights, 'd_in' | 'd_sae'>;
  v: Omit<SaeWeights, 'd_in' | 'd_sae'>;
}

/** The adaptive-α state carried between steps (SPEC §4). */
export interface AlphaState {
  /** L_max, or null before the first step. */
  l_max: number | null;
}

export interface StepMetrics {
  step: number;
  tokens_seen: number;
  l_recon: number;
  l_sparse: number;
  l_temp: number;
  /** TopK AuxK loss (0 when off). */
  l_aux: number;
  /** L_recon + λ1·L_sparse + λ2·α·L_temp (+ aux); Matryoshka: L_mat in place of L_recon (+ c·L_nce). */
  loss: number;
  alpha: number;
  l_max: number;
  /** Mean active features per (valid) token in the step's batch. */
  l0: number;
  /** Features that have not fired within dead_feature_window tokens. */
  dead_count: number;
  /** L2 norm of the full gradient before the optimizer step. */
  grad_norm: number;
  /** Matryoshka: L_mat = Σ_g c_g·L_g over the nested prefixes (the GPU trainer: 0 for other architectures). */
  l_mat?: number;
  /** T-SAE: the InfoNCE loss of adjacent tokens' high-level codes, without its coefficient (0 otherwise). */
  l_nce?: number;
  lr: number;
}
