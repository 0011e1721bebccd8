// Causal multi-head attention with grouped-query heads over S independent sequences of T tokens
// (SPEC §9). For query row n = s·T + t and head h, with kv head g = h / (nHeads/nKv):
//   score_j = (q[n, h]·k[s·T + j, g])·scale  for j ≤ t,   p = softmax(score),   z[n, h] = Σ_j p_j·v[s·T + j, g]
// (scale = 1/√headDim). One invocation per (row, head) walks the keys once with an online softmax
// (running max m and sum l; acc rescaled by e^(m_old − m_new)), so no [T, T] score matrix exists. Its
// query row and accumulator live in private vec4 arrays (headDim a multiple of 4, ≤ 4·MAX_HD4), and
// k, v are read as vec4. Heads are contiguous blocks of headDim columns.
// CPU twin: attentionTwin in src/lm/twins/attention.ts.

struct AttnDims {
  S: u32,       // sequences
  T: u32,       // tokens per sequence
  nHeads: u32,  // query heads
  nKv: u32,     // key/value heads (divides nHeads)
  headDim: u32, // a multiple of 4, ≤ 4·MAX_HD4
  scale: f32,   // 1/√headDim
  _p0: u32,
  _p1: u32,
}

@group(0) @binding(0) var<uniform> u: AttnDims;                      // sizes, scale
@group(0) @binding(1) var<storage, read> q: array<vec4<f32>>;        // [S·T, nHeads·headDim] (rotated)
@group(0) @binding(2) var<storage, read> k: array<vec4<f32>>;        // [S·T, nKv·headDim] (rotated)
@group(0) @binding(3) var<storage, read> v: array<vec4<f32>>;        // [S·T, nKv·headDim]
@group(0) @binding(4) var<storage, read_write> z: array<vec4<f32>>;  // [S·T, nHeads·headDim] weighted sums

const MAX_HD4 = 64u; // head_dim ≤ 256

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= u.S * u.T * u.nHeads) {
    return;
  }
  let n = i / u.nHeads;
  let h = i % u.nHeads;
  let row0 = (n / u.T) * u.T;
  let t = n % u.T;
  let g = h / (u.nHeads / u.nKv);
  let hd4 = u.headDim / 4u;
  let qo = (n * u.nHeads + h) * hd4;
  let kvd4 = u.nKv * hd4;
  var qv: array<vec4<f32>, MAX_HD4>;
  var acc: array<vec4<f32>, MAX_HD4>;
  for (var e = 0u; e < hd4; e++) {
    qv[e] = q[qo + e] * u.scale;
  }
  var m = -3.0e38;
  var l = 0.0;
  for (var j = 0u; j <= t; j++) {
    let ko = (row0 + j) * kvd4 + g * hd4;
    var s4 = vec4<f32>(0.0);
    for (var e = 0u; e < hd4; e++) {
      s4 += qv[e] * k[ko + e];
    }
    let sc = s4.x + s4.y + s4.z + s4.w;
    let mNew = max(m, sc);
    let corr = exp(m - mNew);
    let p = exp(sc - mNew);
    l = l * corr + p;
    for (var e = 0u; e < hd4; e++) {
      acc[e] = acc[e] * corr + p * v[ko + e];
    }
    m = mNew;
  }
  let inv = 1.0 / l;
  for (var e = 0u; e < hd4; e++) {
    z[qo + e] = acc[e] * inv;
  }
}
