// Matryoshka ∂L_mat/∂f (src/sae/reference/matryoshka.ts): one invocation per (n, i),
//   g_f[n, i] = Σ_j C[g(i), n, j]·W_dec_ij        g(i) = the group holding feature i (e_{g−1} ≤ i < e_g)
// C already carries the prefix weights, 1/G and 2/N (matryoshka_resid.wgsl); padding rows give 0.
// The trainer adds the temporal and contrastive terms and masks by the active set (g_pre).
// Struct Mat: shaders/method_common.wgsl (put in front by withMethodStructs). CPU twin: matryoshkaGradFTwin (src/sae/twins/matryoshka.ts).
@group(0) @binding(0) var<uniform> p: Mat;                       // sizes, prefix ends
@group(0) @binding(1) var<storage, read> cgrad: array<f32>;      // [G, N, d] C
@group(0) @binding(2) var<storage, read> w_dec: array<f32>;      // [m, d]
@group(0) @binding(3) var<storage, read_write> g_f: array<f32>;  // [N, m]

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG; // k = n·m + i
  if (k >= p.N * p.m) {
    return;
  }
  let n = k / p.m;
  let i = k % p.m;
  let o = mat_group_of(p, i) * p.N * p.d + n * p.d;
  var s = 0.0;
  for (var j = 0u; j < p.d; j++) {
    s += cgrad[o + j] * w_dec[i * p.d + j];
  }
  g_f[k] = s;
}
