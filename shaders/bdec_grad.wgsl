// ∂L/∂b_dec = Σ_n g_x̂_n − W_enc·Σ_n g_pre_n (SPEC §5: b_dec enters x̂ directly and the encoder through
// x − b_dec). One workgroup per input dimension j. CPU twin: bdecGradTwin.
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

@group(0) @binding(0) var<uniform> p: Params;                       // sizes
@group(0) @binding(1) var<storage, read> g_xhat: array<f32>;        // [N, d]
@group(0) @binding(2) var<storage, read> W_enc: array<f32>;         // [d, feats] columns feat0.. of W_enc
@group(0) @binding(3) var<storage, read> grad_b_enc: array<f32>;    // [m] = Σ_n g_pre_n
@group(0) @binding(4) var<storage, read_write> grad_b_dec: array<f32>; // [d]
@group(0) @binding(5) var<uniform> blk: Block; // the feature block of W_enc bound here; first/last accumulate over blocks

// Invocations per workgroup (one workgroup per row): 256 on real GPUs; the trainer picks 32 on
// SwiftShader, where every extra invocation costs a CPU lane at each barrier of the tree reduction.
override WG: u32 = 256u;
var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let j = wid.x + wid.y * nwg.x;
  if (j >= p.d) {
    return;
  }
  var s = 0.0;
  if (blk.first != 0u) {
    for (var n = li; n < p.N; n += WG) {
      s += g_xhat[n * p.d + j];
    }
  }
  for (var i = li; i < blk.feats; i += WG) {
    s -= W_enc[j * blk.feats + i] * grad_b_enc[blk.feat0 + i];
  }
  red[li] = s;
  workgroupBarrier();
  for (var w = WG / 2u; w > 0u; w >>= 1u) {
    if (li < w) {
      red[li] += red[li + w];
    }
    workgroupBarrier();
  }
  if (li == 0u) {
    grad_b_dec[j] = select(grad_b_dec[j], 0.0, blk.first != 0u) + red[0];
  }
}
