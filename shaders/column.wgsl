// Per-feature sums over the rows of the batch, one invocation per feature (SPEC §5 and dead tracking):
//   ∂L/∂b_enc_i = Σ_n g_pre[n, i]
//   ∂L/∂log θ_i = Σ_n (terms left in `theta_terms` by feature_grad.wgsl)        [JumpReLU]
//   tokens_since_fired_i ← 0 if feature i fired on a valid token of the batch, else += N_valid;
//   a feature is dead when tokens_since_fired ≥ dead_feature_window (counted into counters[0]).
// CPU twin: columnTwin.
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

@group(0) @binding(0) var<uniform> p: Params;                           // sizes, N_valid, dead window
@group(0) @binding(1) var<storage, read> f: array<f32>;                 // [rows, m] features of the row block (0 on padding)
@group(0) @binding(2) var<storage, read> g_pre: array<f32>;             // [rows, m] ∂L/∂pre
@group(0) @binding(3) var<storage, read> theta_terms: array<f32>;       // [rows, m] JumpReLU per-element ∂L/∂log θ
@group(0) @binding(4) var<storage, read_write> grad_b_enc: array<f32>;  // [m]
@group(0) @binding(5) var<storage, read_write> grad_log_threshold: array<f32>; // [m] (JumpReLU)
@group(0) @binding(6) var<storage, read_write> tokens_since_fired: array<f32>; // [m]
@group(0) @binding(7) var<storage, read_write> counters: array<atomic<u32>>; // [0] dead features
@group(0) @binding(8) var<uniform> blk: Block; // the row block; first/last drive the accumulation over blocks

/** true: also sum the JumpReLU threshold gradient. */
override JUMPRELU: bool = false;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= p.m) {
    return;
  }
  var gb = 0.0;
  var gt = 0.0;
  var fired = false;
  for (var n = 0u; n < blk.rows; n++) {
    let idx = n * p.m + i;
    gb += g_pre[idx];
    fired = fired || f[idx] > 0.0;
    if (JUMPRELU) {
      gt += theta_terms[idx];
    }
  }
  if (blk.first == 0u) {
    gb += grad_b_enc[i];
    gt += grad_log_threshold[i];
  }
  grad_b_enc[i] = gb;
  if (JUMPRELU) {
    grad_log_threshold[i] = gt;
  }
  // Between row blocks a feature that fired is marked by tokens_since_fired = −1 (real values are ≥ 0).
  let old = tokens_since_fired[i];
  if (old < 0.0) {
    fired = true;
  }
  if (blk.last == 0u) {
    if (fired) {
      tokens_since_fired[i] = -1.0;
    }
    return;
  }
  let since = select(old + p.n_valid, 0.0, fired);
  tokens_since_fired[i] = since;
  if (since >= p.dead_window) {
    atomicAdd(&counters[0], 1u);
  }
}
