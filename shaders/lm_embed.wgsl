// Token embedding gather (+ learned positions), SPEC §9: x[n, j] = W_E[ids[n], j] (+ W_pos[n mod T, j]).
// The embedding may be split into row blocks (vocab rows v0 … v0+rows−1, one binding each, see
// src/lm/gpu/plan.ts): one dispatch per block, each writing only the tokens whose id falls inside it,
// so every token is written exactly once. Rows n = s·T + t of S sequences; position t = n mod T.
// One invocation per element of x [N, d]; the flat index folds over a 2-D grid (src/gpu/dispatch.ts).
// CPU twin: embedTwin in src/lm/twins/embed.ts.

struct EmbedDims {
  N: u32,      // tokens (S·T)
  T: u32,      // context length (positions restart every T rows)
  d: u32,      // d_model
  v0: u32,     // first vocabulary row held by this block
  rows: u32,   // vocabulary rows in this block
  hasPos: u32, // 1: add learned positions (GPT-2)
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> u: EmbedDims;                // sizes
@group(0) @binding(1) var<storage, read> ids: array<u32>;       // [N] token ids
@group(0) @binding(2) var<storage, read> W_E: array<f32>;       // [rows, d] embedding rows v0…v0+rows−1
@group(0) @binding(3) var<storage, read> W_pos: array<f32>;     // [≥T, d] learned positions (if hasPos)
@group(0) @binding(4) var<storage, read_write> x: array<f32>;   // [N, d] residual stream out

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= u.N * u.d) {
    return;
  }
  let n = i / u.d;
  let j = i % u.d;
  let id = ids[n];
  if (id < u.v0 || id >= u.v0 + u.rows) {
    return;
  }
  var v = W_E[(id - u.v0) * u.d + j];
  if (u.hasPos != 0u) {
    v += W_pos[(n % u.T) * u.d + j];
  }
  x[i] = v;
}
