// Elementwise activation after the encoder GEMM (SPEC §3): ReLU f = max(pre, 0), or JumpReLU
// f = pre·H(pre − θ) with θ = exp(log_threshold) (Rajamanoharan et al. 2024). Padding rows get f = 0 so
// no later pass (losses, firing counts, the inspector) can see them. TopK lives in topk.wgsl.
// CPU twin: activateTwin.
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

@group(0) @binding(0) var<uniform> p: Params;                     // sizes
@group(0) @binding(1) var<storage, read> pre: array<f32>;         // [rows, m] pre-activations of the block
@group(0) @binding(2) var<storage, read> log_threshold: array<f32>; // [m] JumpReLU log θ (unused for ReLU)
@group(0) @binding(3) var<storage, read> rowflags: array<u32>;    // [N] bit 0 start, bit 1 valid
@group(0) @binding(4) var<storage, read_write> f: array<f32>;     // [rows, m] features of the block
@group(0) @binding(5) var<uniform> blk: Block; // the row block this dispatch covers (pre/f hold only its rows)

/** true: JumpReLU; false: ReLU. */
override JUMPRELU: bool = false;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= blk.rows * p.m) {
    return;
  }
  let n = blk.row0 + i / p.m; // batch row
  let v = pre[i];
  var out = 0.0;
  if ((rowflags[n] & 2u) != 0u) {
    if (JUMPRELU) {
      out = select(0.0, v, v > exp(log_threshold[i % p.m]));
    } else {
      out = max(v, 0.0);
    }
  }
  f[i] = out;
}
