// Reconstruction loss per row and its gradient g_x̂ = ∂L/∂x̂ (SPEC §4, §5). One workgroup per row:
//   'squared': loss_n = ‖x̂_n − x_n‖²,  g_x̂ = (2/N)(x̂_n − x_n)
//   'norm':    loss_n = ‖x̂_n − x_n‖,   g_x̂ = (1/N)(x̂_n − x_n)/‖x̂_n − x_n‖   (0 when the error is 0)
// N is the number of valid tokens; padding rows get loss 0 and gradient 0. CPU twin: reconTwin.
@group(0) @binding(0) var<uniform> p: Params;                     // sizes, 1/N, recon mode
@group(0) @binding(1) var<storage, read> x: array<f32>;           // [N, d] input
@group(0) @binding(2) var<storage, read> xhat: array<f32>;        // [N, d] reconstruction
@group(0) @binding(3) var<storage, read> rowflags: array<u32>;    // [N] bit 0 start, bit 1 valid
@group(0) @binding(4) var<storage, read_write> g_xhat: array<f32>; // [N, d] ∂L/∂x̂
@group(0) @binding(5) var<storage, read_write> row_stats: array<f32>; // [N, 4]: .0 ← loss_n

// Invocations per workgroup (one workgroup per row): 256 on real GPUs; the trainer picks 32 on
// SwiftShader, where every extra invocation costs a CPU lane at each barrier of the tree reduction.
override WG: u32 = 256u;

@compute @workgroup_size(WG)
fn main(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) li: u32,
) {
  let n = wid.x + wid.y * nwg.x;
  if (n >= p.N) {
    return;
  }
  let base = n * p.d;
  let valid = (rowflags[n] & 2u) != 0u;
  var s = 0.0;
  for (var j = li; j < p.d; j += WG) {
    let e = xhat[base + j] - x[base + j];
    s += e * e;
  }
  let total = tree_sum_f32(li, s); // shaders/lib_reduce.wgsl
  let sq = total;
  let normMode = (p.flags & 1u) != 0u;
  let norm = sqrt(sq);
  var scale = 2.0 * p.inv_n;
  if (normMode) {
    scale = select(0.0, p.inv_n / norm, norm > 0.0);
  }
  if (!valid) {
    scale = 0.0;
  }
  for (var j = li; j < p.d; j += WG) {
    g_xhat[base + j] = scale * (xhat[base + j] - x[base + j]);
  }
  if (li == 0u) {
    row_stats[n * 4u] = select(0.0, select(sq, norm, normMode), valid);
  }
}
