// T-SAE InfoNCE, step 2 of 5 (src/sae/reference/infonce.ts): the logits. One invocation per (p, q):
//   S[p, q] = (a_p · b_q) / τ                                   cosine = 0 (the code: dot products)
//   S[p, q] = (a_p · b_q) / (‖a_p‖·‖b_q‖·τ), 0 if a norm is 0  cosine = 1
// a_p = f[cur_p, 0:H], b_q = f[prev_q, 0:H]. Struct Nce: shaders/method_common.wgsl.
// CPU twin: infoNceTwin (src/sae/twins/infonce.ts).
@group(0) @binding(0) var<uniform> p: Nce;                        // P, H, m, cosine, 1/τ
@group(0) @binding(1) var<storage, read> f: array<f32>;           // [N, m]
@group(0) @binding(2) var<storage, read> pairs: array<u32>;       // [2P] current rows, then previous rows
@group(0) @binding(3) var<storage, read> norms: array<f32>;       // [2P] from infonce_norms
@group(0) @binding(4) var<storage, read_write> logits: array<f32>; // [P, P]

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG;
  if (k >= p.P * p.P) {
    return;
  }
  let a = k / p.P;
  let b = k % p.P;
  let oa = pairs[a] * p.m;
  let ob = pairs[p.P + b] * p.m;
  var s = 0.0;
  for (var h = 0u; h < p.H; h++) {
    s += f[oa + h] * f[ob + h];
  }
  if (p.cosine != 0u) {
    let nn = norms[a] * norms[p.P + b];
    s = select(0.0, s / nn, nn > 0.0);
  }
  logits[k] = s * p.inv_tau;
}
