// ∂L/∂b_dec = Σ_n g_x̂_n − W_enc·Σ_n g_pre_n (SPEC §5: b_dec enters x̂ directly and the encoder through
// x − b_dec). One workgroup per input dimension j. CPU twin: bdecGradTwin.

@group(0) @binding(0) var<uniform> p: Params;                       // sizes
@group(0) @binding(1) var<storage, read> g_xhat: array<f32>;        // [N, d]
@group(0) @binding(2) var<storage, read> W_enc: array<f32>;         // [d, feats] columns feat0.. of W_enc
@group(0) @binding(3) var<storage, read> grad_b_enc: array<f32>;    // [m] = Σ_n g_pre_n
@group(0) @binding(4) var<storage, read_write> grad_b_dec: array<f32>; // [d]
@group(0) @binding(5) var<uniform> blk: Block; // the feature block of W_enc bound here; first/last accumulate over blocks

// Invocations per workgroup (one workgroup per row): 256 on real GPUs; the trainer picks 32 on
// SwiftShader, where every extra invocation costs a CPU lane at each barrier of the tree reduction.
override WG: u32 = 256u;

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
  let total = tree_sum_f32(li, s); // shaders/lib_reduce.wgsl
  if (li == 0u) {
    grad_b_dec[j] = select(grad_b_dec[j], 0.0, blk.first != 0u) + total;
  }
}
