// T-SAE InfoNCE, step 4 of 5 (src/sae/reference/infonce.ts): the logits' gradient, once per (p, q):
//   G[p, q] = (exp(S_pq − lse_p) + exp(S_pq − lse_{P+q}) − 2·δ_pq) / (2P·τ)
// (row softmax + column softmax − the two labels, with the loss's 1/(2P) and the logits' 1/τ), so
// infonce_grad.wgsl reads each G once per side instead of taking two exponentials per (row, feature).
// Struct Nce: shaders/method_common.wgsl. CPU twin: infoNceTwin (src/sae/twins/infonce.ts).
@group(0) @binding(0) var<uniform> p: Nce;                        // P, 1/τ
@group(0) @binding(1) var<storage, read> logits: array<f32>;      // [P, P] from infonce_logits
@group(0) @binding(2) var<storage, read> lse: array<f32>;         // [2P] from infonce_lse
@group(0) @binding(3) var<storage, read_write> gmat: array<f32>;  // [P, P] G

override WG: u32 = 64u;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let k = gid.x + gid.y * nwg.x * WG; // k = p·P + q
  let P = p.P;
  if (k >= P * P) {
    return;
  }
  let a = k / P;
  let b = k % P;
  let s = logits[k];
  var g = exp(s - lse[a]) + exp(s - lse[P + b]);
  if (a == b) {
    g -= 2.0;
  }
  gmat[k] = g * p.inv_tau / f32(2u * P);
}
