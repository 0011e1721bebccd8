// Uniform structs shared by the issue-14 method kernels (matryoshka_*.wgsl, infonce_*.wgsl;
// the BatchTopK kernels are trainer kernels: shaders/lib_batchtopk.wgsl); put in front of each by withMethodStructs (src/sae/gpu/methodKernels.ts), which
// also packs them (packMat, packNce) with the same field order.

// Matryoshka prefixes: G ≤ 8 groups, prefix ends e_0 < … < e_{G−1} = m, weights w_g.
struct Mat {
  N: u32,
  d: u32,
  m: u32,
  G: u32,
  n_valid: u32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
  ends: array<vec4<u32>, 2>,
  weights: array<vec4<f32>, 2>,
}

// The group holding feature i: the g with e_{g−1} ≤ i < e_g.
fn mat_group_of(p: Mat, i: u32) -> u32 {
  var g = 0u;
  while (g + 1u < p.G && i >= p.ends[g / 4u][g % 4u]) {
    g++;
  }
  return g;
}

// InfoNCE over P pairs of H-wide high-level codes read from f [N, m]; cosine = 1 normalizes the codes.
struct Nce {
  P: u32,
  H: u32,
  m: u32,
  N: u32,
  cosine: u32,
  _p0: u32,
  inv_tau: f32,
  coef: f32,    // contrastive_coefficient: infonce_add.wgsl adds coef·∂L_nce/∂f into the trainer's ∂L/∂f
}
