// Uniform structs shared by the issue-14 method kernels (matryoshka_*.wgsl, infonce_*.wgsl,
// batchtopk_*.wgsl); put in front of each by withMethodStructs (src/sae/gpu/methodKernels.ts), which
// also packs them (packMat, packNce, packBtk) with the same field order.

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
  _p1: f32,
}

// BatchTopK over a batch: K = k·N_valid entries, the EMA threshold update (update ≠ 0) with β.
struct Btk {
  N: u32,
  m: u32,
  K: u32,
  update: u32,
  beta: f32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

// BatchTopK select state (batchtopk_*.wgsl), u32 words of one storage buffer:
const BTK_PREFIX = 0u;    // key bits decided so far (after round 4: the key v* of the K-th entry)
const BTK_MASK = 1u;      // which bits are decided
const BTK_REMAIN = 2u;    // entries still to take at the prefix (after round 4: ties at v* to take)
const BTK_ROUND = 3u;     // radix round 0..4 (4: done)
const BTK_CUT_ROW = 4u;   // the last row that takes a tie at v*
const BTK_CUT_COL = 5u;   // … and its last column taking one
const BTK_TAKE = 6u;      // min(K, positive entries): how many are selected
const BTK_EMPTY = 7u;     // 1 when nothing is selected

// Positive floats order like their bit patterns.
fn btk_key(v: f32) -> u32 {
  return bitcast<u32>(v);
}
