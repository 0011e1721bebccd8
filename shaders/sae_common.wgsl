// Structs shared by the SAE kernels (src/sae/gpu/saePasses.ts prepends this file to each of them: WGSL
// has no includes). Params matches the host layout in src/sae/gpu/layout.ts; Block describes the row or
// feature block a dispatch covers when matrices are split across bindings (src/sae/gpu/chunks.ts).

struct Params {
  N: u32,            // rows in the batch, S·T
  T: u32,            // positions per sequence
  d: u32,            // d_in
  m: u32,            // d_sae
  k: u32,            // TopK: active features per row
  flags: u32,        // bit 0 recon 'norm', bit 1 seq_start 'skip', bit 2 lmax 'ema', bit 3 alpha 'relative'
  n_valid: f32,      // valid (non-padding) tokens in the batch
  inv_n: f32,        // 1 / n_valid: every loss is a mean over valid tokens
  lambda1: f32,      // l1_coefficient
  lambda2: f32,      // temporal_coefficient
  alpha_beta: f32,   // β of α = σ(β·gap)
  lmax_momentum: f32, // μ
  lr: f32,           // learning rate of this step (lrAt on the CPU)
  adam_beta1: f32,
  adam_beta2: f32,
  adam_eps: f32,
  bc1: f32,          // 1 − β1^t, Adam bias correction of this step
  bc2: f32,          // 1 − β2^t
  jr_bandwidth: f32, // JumpReLU ε
  dead_window: f32,  // dead_feature_window in tokens
  step: u32,         // 1-based index of this step (recorded with a fault)
  adam_one_minus_beta1: f32, // 1 − β1 computed in float64 (f32(1) − f32(β2) is off by 1e-5 relative)
  adam_one_minus_beta2: f32, // 1 − β2
  aux_k: u32,        // TopK AuxK: dead features used to reconstruct the residual
  aux_k_coefficient: f32, // TopK AuxK coefficient (0: off)
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

struct Block {
  row0: u32,  // first batch row of this row block (whole sequences)
  rows: u32,  // rows in the block
  feat0: u32, // first feature of this feature block
  feats: u32, // features in the block
  first: u32, // 1: first block of an accumulation (write), 0: add to what earlier blocks wrote
  last: u32,  // 1: last block of an accumulation
  _b0: u32,
  _b1: u32,
}
