// Matryoshka prefix residuals and their cumulative gradient (src/sae/reference/matryoshka.ts; T-SAE code
// dictionary_learning/trainers/matryoshka_batch_top_k.py, loss). One invocation per element (n, j):
//   x̂⁽ᵍ⁾_nj = b_dec_j + Σ_{i < e_g} f_ni·W_dec_ij          nested prefixes, g = 0..G−1, e_{G−1} = m
//   R[g, n, j] = x̂⁽ᵍ⁾_nj − x_nj                               residual of prefix g
//   C[g, n, j] = Σ_{g' ≥ g} (w_g'/G)·(2/N)·R[g', n, j]        ∂L_mat/∂x̂⁽ᵍ⁾ summed over the prefixes
//                                                             that contain group g
// Padding rows (rowflags bit 1 clear) get R = C = 0. N = valid tokens (p.n_valid). G ≤ 8.
// Correctness first: the prefix sums are a plain loop over the features (O(m) per element, the cost of
// one naive decoder GEMM). Struct Mat: shaders/method_common.wgsl.
// CPU twin: matryoshkaResidTwin (src/sae/twins/matryoshka.ts).
@group(0) @binding(0) var<uniform> p: Mat;                       // sizes, prefix ends, weights
@group(0) @binding(1) var<storage, read> x: array<f32>;          // [N, d] inputs
@group(0) @binding(2) var<storage, read> f: array<f32>;          // [N, m] feature activations
@group(0) @binding(3) var<storage, read> w_dec: array<f32>;      // [m, d]
@group(0) @binding(4) var<storage, read> b_dec: array<f32>;      // [d]
@group(0) @binding(5) var<storage, read> rowflags: array<u32>;   // [N] bit 0 start, bit 1 valid (the trainer's)
@group(0) @binding(6) var<storage, read_write> resid: array<f32>; // [G, N, d] R
@group(0) @binding(7) var<storage, read_write> cgrad: array<f32>; // [G, N, d] C

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  let ND = p.N * p.d;
  if (k >= ND) {
    return;
  }
  let n = k / p.d;
  let j = k % p.d;
  var r: array<f32, 8>;
  if ((rowflags[n] & 2u) == 0u) {
    for (var g = 0u; g < p.G; g++) {
      resid[g * ND + k] = 0.0;
      cgrad[g * ND + k] = 0.0;
    }
    return;
  }
  var xh = b_dec[j];
  var i = 0u;
  for (var g = 0u; g < p.G; g++) {
    let e = p.ends[g / 4u][g % 4u];
    for (; i < e; i++) {
      xh += f[n * p.m + i] * w_dec[i * p.d + j];
    }
    r[g] = xh - x[k];
    resid[g * ND + k] = r[g];
  }
  let two_over_n = 2.0 / f32(max(p.n_valid, 1u));
  var c = 0.0;
  for (var gg = 0u; gg < p.G; gg++) {
    let g = p.G - 1u - gg;
    c += p.weights[g / 4u][g % 4u] / f32(p.G) * two_over_n * r[g];
    cgrad[g * ND + k] = c;
  }
}
