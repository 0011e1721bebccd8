// Matryoshka ∂L_mat/∂W_dec (src/sae/reference/matryoshka.ts): one invocation per (i, j) of [m, d],
//   out[i, j] = Σ_n f_ni·C[g(i), n, j]      (the decoder side; W_dec is not in the encoder)
// ∂L_mat/∂b_dec through x̂ is Σ_n C[0, n, j] (every prefix holds b_dec): the trainer's bdec_grad.wgsl
// reads C's first [N, d] slice in place of g_x̂ and adds the encoder's −W_enc·Σ g_pre there.
// Padding rows have C = 0 and add nothing. Struct Mat: shaders/method_common.wgsl.
// CPU twin: matryoshkaGradWdecTwin (src/sae/twins/matryoshka.ts).
@group(0) @binding(0) var<uniform> p: Mat;                       // sizes, prefix ends
@group(0) @binding(1) var<storage, read> cgrad: array<f32>;      // [G, N, d] C
@group(0) @binding(2) var<storage, read> f: array<f32>;          // [N, m]
@group(0) @binding(3) var<storage, read_write> g_out: array<f32>; // [m, d] ∂W_dec

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG; // k = i·d + j
  if (k >= p.m * p.d) {
    return;
  }
  let i = k / p.d;
  let j = k % p.d;
  var s = 0.0;
  let o = mat_group_of(p, i) * p.N * p.d + j;
  for (var n = 0u; n < p.N; n++) {
    let fv = f[n * p.m + i];
    if (fv != 0.0) {
      s += fv * cgrad[o + n * p.d];
    }
  }
  g_out[k] = s;
}
