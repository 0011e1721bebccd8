// Rotary positions, in place on q [N, nHeads·headDim] or k [N, nKv·headDim] (Llama; SPEC §9). Pair j of a
// head (j < headDim/2) is dimensions (j, j + headDim/2) for HF's rotate_half ('half') and (2j, 2j+1) for
// llama2.c ('interleaved'); at position t = n mod T, with a = t·θ^(−2j/headDim):
//   x₁' = x₁·cos a − x₂·sin a,   x₂' = x₂·cos a + x₁·sin a.
// cos a and sin a come from a [T, headDim/2] table the host computes in float64 (no f32 angle error at
// long positions). One invocation per (row, head, pair). CPU twin: ropeTwin in src/lm/twins/rope.ts.

struct RopeDims {
  N: u32,           // rows (S·T)
  T: u32,           // context length (positions restart every T rows)
  nHeads: u32,      // heads in a row of x
  headDim: u32,     // dimensions per head (even)
  interleaved: u32, // 1: llama2.c pairs (2j, 2j+1); 0: rotate_half pairs (j, j + headDim/2)
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> u: RopeDims;               // sizes, pairing style
@group(0) @binding(1) var<storage, read> cosT: array<f32>;    // [T, headDim/2] cos(t·freq_j)
@group(0) @binding(2) var<storage, read> sinT: array<f32>;    // [T, headDim/2] sin(t·freq_j)
@group(0) @binding(3) var<storage, read_write> x: array<f32>; // [N, nHeads·headDim] rotated in place

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let half = u.headDim / 2u;
  let perRow = u.nHeads * half;
  if (i >= u.N * perRow) {
    return;
  }
  let n = i / perRow;
  let h = (i % perRow) / half;
  let j = i % half;
  let base = n * u.nHeads * u.headDim + h * u.headDim;
  var i1 = base + j;
  var i2 = base + j + half;
  if (u.interleaved != 0u) {
    i1 = base + 2u * j;
    i2 = i1 + 1u;
  }
  let t = (n % u.T) * half + j;
  let c = cosT[t];
  let s = sinT[t];
  let x1 = x[i1];
  let x2 = x[i2];
  x[i1] = x1 * c - x2 * s;
  x[i2] = x2 * c + x1 * s;
}
