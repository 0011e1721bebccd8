// AuxK residual, loss and gradient per row (see auxk_select.wgsl for the definition). One workgroup per row:
//   e_n = x_n − x̂_n (a constant: stop-gradient),  r_n = ê_n − e_n with ê_n = f_aux_n·W_dec (a GEMM, in ehat)
//   aux_rows[n] = ‖r_n‖²  (finalize.wgsl: L_aux = scale·(1/N)·Σ_n aux_rows[n])
//   g_ê_n = aux_k_coefficient·scale·(2/N)·r_n, written over ê in place.
// Padding rows get 0. CPU twin: referenceAuxk / referenceBackward in src/sae/reference.
@group(0) @binding(0) var<uniform> p: Params;                       // sizes, 1/N, AuxK coefficient
@group(0) @binding(1) var<storage, read> x: array<f32>;             // [N, d] input
@group(0) @binding(2) var<storage, read> xhat: array<f32>;          // [N, d] reconstruction
@group(0) @binding(3) var<storage, read_write> ehat: array<f32>;    // [N, d] in: ê; out: g_ê
@group(0) @binding(4) var<storage, read> rowflags: array<u32>;      // [N] bit 1 valid
@group(0) @binding(5) var<storage, read> state: array<f32>;         // [4] AuxK scale
@group(0) @binding(6) var<storage, read_write> aux_rows: array<f32>; // [N] ‖r_n‖²

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
    let r = ehat[base + j] - (x[base + j] - xhat[base + j]);
    s += r * r;
  }
  let total = tree_sum_f32(li, s); // shaders/lib_reduce.wgsl
  let c = select(0.0, p.aux_k_coefficient * state[4] * 2.0 * p.inv_n, valid);
  for (var j = li; j < p.d; j += WG) {
    let r = ehat[base + j] - (x[base + j] - xhat[base + j]);
    ehat[base + j] = c * r;
  }
  if (li == 0u) {
    aux_rows[n] = select(0.0, total, valid);
  }
}
