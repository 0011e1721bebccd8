// Matryoshka per-prefix row losses (src/sae/reference/matryoshka.ts): one invocation per (g, n),
//   row_loss[g, n] = Σ_j R[g, n, j]²                       (0 for padding rows, whose R is 0)
// The host (or the metrics pass) forms L_g = (1/N) Σ_n row_loss[g, n] and L_mat = (1/G) Σ_g w_g·L_g.
// Struct Mat: shaders/method_common.wgsl (put in front by withMethodStructs). CPU twin: matryoshkaRowLossTwin (src/sae/twins/matryoshka.ts).
@group(0) @binding(0) var<uniform> p: Mat;                          // sizes
@group(0) @binding(1) var<storage, read> resid: array<f32>;         // [G, N, d] from matryoshka_resid
@group(0) @binding(2) var<storage, read_write> row_loss: array<f32>; // [G, N]

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG; // k = g·N + n
  if (k >= p.G * p.N) {
    return;
  }
  var s = 0.0;
  let o = k * p.d;
  for (var j = 0u; j < p.d; j++) {
    let v = resid[o + j];
    s += v * v;
  }
  row_loss[k] = s;
}
