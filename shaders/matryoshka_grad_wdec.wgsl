// Matryoshka ∂L_mat/∂W_dec and ∂L_mat/∂b_dec through x̂ (src/sae/reference/matryoshka.ts): one
// invocation per (i, j) of an [m + 1, d] output whose last row is ∂b_dec:
//   out[i, j] = Σ_n f_ni·C[g(i), n, j]      i < m    (∂W_dec_ij; the encoder side adds nothing here)
//   out[m, j] = Σ_n C[0, n, j]                       (∂b_dec_j through x̂: every prefix holds b_dec;
//                                                     the encoder's −W_enc·Σ g_pre is added elsewhere)
// Padding rows have C = 0 and add nothing. Struct Mat: shaders/method_common.wgsl.
// CPU twin: matryoshkaGradWdecTwin (src/sae/twins/matryoshka.ts).
@group(0) @binding(0) var<uniform> p: Mat;                       // sizes, prefix ends
@group(0) @binding(1) var<storage, read> cgrad: array<f32>;      // [G, N, d] C
@group(0) @binding(2) var<storage, read> f: array<f32>;          // [N, m]
@group(0) @binding(3) var<storage, read_write> g_out: array<f32>; // [m + 1, d] ∂W_dec rows, then ∂b_dec

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG; // k = i·d + j
  if (k >= (p.m + 1u) * p.d) {
    return;
  }
  let i = k / p.d;
  let j = k % p.d;
  var s = 0.0;
  if (i == p.m) {
    for (var n = 0u; n < p.N; n++) {
      s += cgrad[n * p.d + j];
    }
  } else {
    let o = mat_group_of(p, i) * p.N * p.d + j;
    for (var n = 0u; n < p.N; n++) {
      let fv = f[n * p.m + i];
      if (fv != 0.0) {
        s += fv * cgrad[o + n * p.d];
      }
    }
  }
  g_out[k] = s;
}
