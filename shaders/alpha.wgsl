// L_recon of the step, then the L_max update and α (SPEC §4), all on the GPU so no readback sits in the
// step. One workgroup. α is written to `state` and read as a constant by the backward pass — it is a
// coefficient, not a path for gradients. CPU twin: updateAlpha in src/sae/alpha.ts.
//   first step: L_max = L_recon; 'max': max(L_recon, μ·L_max + (1−μ)·L_recon); 'ema': μ·L_max + (1−μ)·L_recon
//   'absolute': α = σ(β(L_max − L_recon)); 'relative': σ(β(L_max − L_recon)/L_max) (gap 0 when L_max ≤ 0)
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
@group(0) @binding(0) var<uniform> p: Params;                     // 1/N, β, μ, modes
@group(0) @binding(1) var<storage, read> row_stats: array<f32>;   // [N, 4]: .0 loss_n
@group(0) @binding(2) var<storage, read_write> state: array<f32>; // [0] L_max [1] has L_max [2] α [3] L_recon

const WG = 256u;
var<workgroup> red: array<f32, 256>;

fn sigmoid(z: f32) -> f32 {
  if (z >= 0.0) {
    return 1.0 / (1.0 + exp(-z));
  }
  let e = exp(z);
  return e / (1.0 + e);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) li: u32) {
  var s = 0.0;
  for (var n = li; n < p.N; n += WG) {
    s += row_stats[n * 4u];
  }
  red[li] = s;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) {
      red[li] += red[li + w];
    }
    workgroupBarrier();
  }
  if (li != 0u) {
    return;
  }
  let l_recon = red[0] * p.inv_n;
  var l_max = l_recon;
  if (state[1] != 0.0) {
    let mu = p.lmax_momentum;
    let decayed = mu * state[0] + (1.0 - mu) * l_recon;
    l_max = select(max(l_recon, decayed), decayed, (p.flags & 4u) != 0u);
  }
  var gap = l_max - l_recon;
  if ((p.flags & 8u) != 0u) {
    gap = select(0.0, gap / l_max, l_max > 0.0);
  }
  state[0] = l_max;
  state[1] = 1.0;
  state[2] = sigmoid(p.alpha_beta * gap);
  state[3] = l_recon;
}
