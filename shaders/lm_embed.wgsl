// Token embedding gather (+ learned positions), SPEC §9: x[n, j] = W_E[ids[n], j] (+ W_pos[n mod T, j]).
// The embedding may be split into blocks of vocabulary rows v0 … v0+rows−1 (one binding each, see
// src/lm/gpu/plan.ts): one dispatch per block, each writing only the tokens whose id falls inside it, so
// every token is written exactly once. Rows n = s·T + t of S sequences; position t = n mod T.
// A block is stored one of two ways, both read through a u32 binding:
//   f32 (half = 0): rows [rows, d], element (r, j) is word r·d + j (bitcast to f32);
//   f16 (half = 1): transposed packed halves [d, ld], element (r, j) is half number j·ld + r (ld even) —
//                   the layout in which the same buffer is the f16 unembedding's right operand
//                   (logits = h·W_Eᵀ, an NN GEMM in shaders/lm_gemm_f16w.wgsl).
// One invocation per element of x [N, d]; the flat index folds over a 2-D grid (src/gpu/dispatch.ts).
// CPU twin: embedTwin in src/lm/twins/embed.ts (on the f16-rounded W_E for half = 1).

struct EmbedDims {
  N: u32,      // tokens (S·T)
  T: u32,      // context length (positions restart every T rows)
  d: u32,      // d_model
  v0: u32,     // first vocabulary row held by this block
  rows: u32,   // vocabulary rows in this block
  hasPos: u32, // 1: add learned positions (GPT-2)
  half: u32,   // 1: the block is f16, transposed [d, ld]
  ld: u32,     // f16: halves per stored row (rows rounded up to even)
}

@group(0) @binding(0) var<uniform> u: EmbedDims;                // sizes, storage
@group(0) @binding(1) var<storage, read> ids: array<u32>;       // [N] token ids
@group(0) @binding(2) var<storage, read> W_E: array<u32>;       // the block: f32 words or packed halves
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
  let r = id - u.v0;
  var v: f32;
  if (u.half != 0u) {
    let h = j * u.ld + r;
    v = unpack2x16float(W_E[h / 2u])[h % 2u];
  } else {
    v = bitcast<f32>(W_E[r * u.d + j]);
  }
  if (u.hasPos != 0u) {
    v += W_pos[(n % u.T) * u.d + j];
  }
  x[i] = v;
}
