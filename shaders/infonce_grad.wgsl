// T-SAE InfoNCE, step 5 of 5 (src/sae/reference/infonce.ts): ∂L_nce/∂ of each row's high-level code,
// per role. One invocation per (side, n); side 0: row n as the current token of pair p = role[n],
// side 1: as the previous token of pair q = role[N + n] (0xffffffff: not in that role → zeros).
//   G_pq (from infonce_softmax.wgsl) = (exp(S_pq − lse_p) + exp(S_pq − lse_{P+q}) − 2δ_pq) / (2P·τ)
//   side 0: u_h = Σ_q G_pq b̂_qh        side 1: u_h = Σ_p G_pq â_ph
//   (â, b̂ = the codes, divided by their norms when cosine = 1)
//   out[side, n, h] = u_h                                    cosine = 0
//                   = (u_h − ĉ_h (ĉ·u)) / ‖c‖, 0 if ‖c‖ = 0  cosine = 1, c = the row's own code
// The output row is the accumulator (one invocation owns it), summed in j order as the twin. The trainer
// adds both sides (times contrastive_coefficient) to ∂L/∂f's first H columns (infonce_add.wgsl).
// Struct Nce: shaders/method_common.wgsl. CPU twin: infoNceTwin (src/sae/twins/infonce.ts).
@group(0) @binding(0) var<uniform> p: Nce;                        // P, H, m, N, cosine
@group(0) @binding(1) var<storage, read> f: array<f32>;           // [N, m]
@group(0) @binding(2) var<storage, read> pairs: array<u32>;       // [2P] current rows, then previous rows
@group(0) @binding(3) var<storage, read> role: array<u32>;        // [2N] pair of row n as current, then as previous
@group(0) @binding(4) var<storage, read> norms: array<f32>;       // [2P]
@group(0) @binding(5) var<storage, read> gmat: array<f32>;        // [P, P] G
@group(0) @binding(6) var<storage, read_write> g_code: array<f32>; // [2, N, H]

override WG: u32 = 64u;

fn code(k: u32, h: u32) -> f32 {
  let v = f[pairs[k] * p.m + h];
  if (p.cosine == 0u) {
    return v;
  }
  return select(0.0, v / norms[k], norms[k] > 0.0);
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG; // k = side·N + n
  if (k >= 2u * p.N) {
    return;
  }
  let side = k / p.N;
  let o = k * p.H;
  for (var h = 0u; h < p.H; h++) {
    g_code[o + h] = 0.0;
  }
  let r = role[k];
  if (r == 0xffffffffu) {
    return;
  }
  let P = p.P;
  // This row's code index in norms/pairs, and the other side's offset.
  let own = select(r, P + r, side == 1u);
  let other0 = select(P, 0u, side == 1u);
  for (var j = 0u; j < P; j++) {
    // Side 0 walks row r of G, side 1 column r.
    let g = gmat[select(r * P + j, j * P + r, side == 1u)];
    if (g == 0.0) {
      continue;
    }
    let ok = pairs[other0 + j] * p.m;
    var nk = 1.0;
    if (p.cosine != 0u) {
      nk = select(0.0, 1.0 / norms[other0 + j], norms[other0 + j] > 0.0);
    }
    for (var h = 0u; h < p.H; h++) {
      g_code[o + h] += g * f[ok + h] * nk;
    }
  }
  var dot = 0.0;
  for (var h = 0u; h < p.H; h++) {
    dot += code(own, h) * g_code[o + h];
  }
  if (p.cosine != 0u) {
    let nr = norms[own];
    for (var h = 0u; h < p.H; h++) {
      g_code[o + h] = select(0.0, (g_code[o + h] - code(own, h) * dot) / nr, nr > 0.0);
    }
  }
}
